import { REQUEST_LOGS_TABLE } from './request-logs.table';

/**
 * The ingest consumer's door into request_logs: a table that stores nothing (ENGINE = Null) whose columns are the v1
 * event's own keys (camelCase, docs/events.md) plus the Kafka position, and a materialized view that renames and
 * converts each block into request_logs, whose own views (rollups, token IPs) then run as for a direct insert. So
 * the consumer can send the validated event lines as they came from Kafka (JSONEachRow, the position spliced in)
 * instead of re-serialising every event in JavaScript.
 *
 * Numbers are Float64 here so that any JSON spelling the validator accepts (`200.0`, `2e2`) parses; the view
 * narrows them (the validator guarantees integers where request_logs wants them). `ts` is parsed from the event's
 * ISO text with `date_time_input_format = 'best_effort'` (offsets included), as ClickHouseRepository.insertRaw's
 * callers set it. A v2 event needs columns (or an intake) of its own.
 */
export const REQUEST_LOGS_INTAKE_TABLE = 'request_logs_intake';
export const REQUEST_LOGS_INTAKE_VIEW = 'request_logs_intake_mv';

export const requestLogsIntakeDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${REQUEST_LOGS_INTAKE_TABLE}
(
    kafka_partition Int32,
    kafka_offset    Int64,
    v               Float64,
    eventId         String,
    ts              DateTime64(3, 'UTC'),
    accountId       String,
    tokenId         Nullable(String),
    clientIp        String,
    method          String,
    route           String,
    status          Float64,
    latencyMs       Float64,
    bytesIn         Float64,
    bytesOut        Float64,
    operation       String,
    decision        String,
    requestId       String,
    rule            String DEFAULT ''
)
ENGINE = Null`;

export const requestLogsIntakeViewDdl = (db: string) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${REQUEST_LOGS_INTAKE_VIEW} TO ${db}.${REQUEST_LOGS_TABLE} AS
SELECT
    eventId                AS event_id,
    ts,
    accountId              AS account_id,
    ifNull(tokenId, '')    AS token_id,
    clientIp               AS client_ip,
    method,
    route,
    toUInt16(status)       AS status,
    toFloat32(latencyMs)   AS latency_ms,
    toUInt64(bytesIn)      AS bytes_in,
    toUInt64(bytesOut)     AS bytes_out,
    operation,
    decision,
    requestId              AS request_id,
    rule,
    kafka_partition,
    kafka_offset
FROM ${db}.${REQUEST_LOGS_INTAKE_TABLE}`;

/**
 * Settings every intake insert needs. Unknown keys must fail, not be skipped (ClickHouse skips them by default): a
 * key ClickHouse read differently from JavaScript would otherwise store an event under another id. Lone surrogate
 * escapes (`"\ud800"`) are valid JSON that JavaScript accepts and re-emits, so ClickHouse must accept them too.
 */
export const REQUEST_LOGS_INTAKE_SETTINGS = {
  date_time_input_format: 'best_effort',
  input_format_skip_unknown_fields: 0,
  input_format_json_throw_on_bad_escape_sequence: 0,
} as const;
