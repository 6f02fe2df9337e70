import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';

/** GET /v1/ingest/reconciliation?from=&to=[&accountId=] */
export class ReconciliationQueryDto {
  /** Start of the window (inclusive), ISO-8601. */
  @IsISO8601({ strict: true })
  from!: string;

  /** End of the window (exclusive), ISO-8601. */
  @IsISO8601({ strict: true })
  to!: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  accountId?: string;
}

/** One account × minute where the counts disagree. */
export interface ReconciliationDifference {
  accountId: string;
  /** `YYYY-MM-DD HH:MM:00`, UTC. */
  minute: string;
  /** Distinct valid events Kafka accepted. */
  kafka: number;
  /** Rows in request_logs. */
  stored: number;
  /** Distinct event ids in request_logs (stored > distinct means duplicates). */
  distinct: number;
  /** sum(requests) in request_rollups_1m. */
  rollup: number;
}

export interface ReconciliationReport {
  from: string;
  to: string;
  accountId?: string;
  /** Account × minute cells compared. */
  cells: number;
  totals: { kafka: number; stored: number; distinct: number; rollup: number };
  /** Messages in the topic that are not valid events (they are in the dead-letter topic, not in ClickHouse). */
  invalidMessages: number;
  /** Messages the ingest group had not committed yet when the scan began: a difference may just be in flight. */
  pending: number;
  differences: ReconciliationDifference[];
  consistent: boolean;
}
