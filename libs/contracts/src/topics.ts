/** Kafka topics, created through the admin API by `npm run stack:up` and at start-up (auto-create is off). */
export const TOPICS = {
  requestLogs: 'request-logs',
  requestLogsDeadLetter: 'request-logs.dlq',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Consumer groups. */
export const CONSUMER_GROUPS = {
  ingest: 'usageguard-ingest',
} as const;
