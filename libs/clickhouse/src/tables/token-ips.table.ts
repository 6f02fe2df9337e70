/**
 * Distinct client IPs per token and minute, kept by a materialized view on request_logs, so the analyzer's
 * token-spread rule merges uniq states instead of scanning raw logs. AggregatingMergeTree: read with
 * uniqMerge(ips) and sum(requests) ... GROUP BY.
 */
export const TOKEN_IPS_TABLE = 'token_ips_1m';
export const TOKEN_IPS_VIEW = 'token_ips_1m_mv';

export const tokenIpsDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${TOKEN_IPS_TABLE}
(
    minute      DateTime('UTC'),
    account_id  String,
    token_id    String,
    requests    SimpleAggregateFunction(sum, UInt64),
    ips         AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (account_id, minute, token_id)`;

export const tokenIpsViewDdl = (db: string) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${TOKEN_IPS_VIEW} TO ${db}.${TOKEN_IPS_TABLE} AS
SELECT
    toStartOfMinute(ts)   AS minute,
    account_id,
    token_id,
    toUInt64(count())     AS requests,
    uniqState(client_ip)  AS ips
FROM ${db}.request_logs
GROUP BY minute, account_id, token_id`;
