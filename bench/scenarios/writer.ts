import type { ClickHouseRepository, RequestLogRow, RollupRow } from '@usageguard/clickhouse';
import { type PrismaRepository } from '@usageguard/database';
import {
  IMPORT_ROUTE,
  LICENSE_ROUTE,
  LOGIN_ROUTE,
  MAIN_ROUTE,
  type Scenario,
  type ScenarioWindow,
  inEvent,
  noisy,
  organicRate,
} from './scenarios';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BATCH = 50_000;

const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const chTime64 = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

/** Plan, accounts, tokens and approved burst notices in Postgres. */
export async function writeAccounts(prisma: PrismaRepository, scenarios: Scenario[], planKey = 'bench'): Promise<void> {
  const plan = await prisma.plan.create({
    data: { key: planKey, name: 'Benchmark plan', priorPerMinute: 30, detectionConfig: {} },
  });
  await prisma.account.createMany({
    data: scenarios.map((s) => ({
      id: s.accountId,
      name: `${s.kind} #${s.index}`,
      planId: plan.id,
      createdAt: new Date(s.createdAt),
    })),
  });
  await prisma.apiToken.createMany({
    data: scenarios.map((s) => ({
      id: s.tokenId,
      accountId: s.accountId,
      name: 'main',
      prefix: `ug_bench_${s.index}`,
      secretHash: `bench-${s.tokenId}`,
    })),
  });
  const notices = scenarios.filter((s) => s.notice);
  await prisma.burstNotice.createMany({
    data: notices.map((s) => ({
      accountId: s.accountId,
      startsAt: new Date(s.notice!.startsAt),
      endsAt: new Date(s.notice!.endsAt),
      expectedPerMinute: s.notice!.expectedPerMinute,
      endpoints: [`POST ${IMPORT_ROUTE}`],
      context: 'scheduled import',
      status: 'APPROVED' as const,
      createdAt: new Date(s.notice!.startsAt - 72 * HOUR),
    })),
  });
}

function rollup(
  s: Scenario,
  minute: number,
  route: string,
  operation: string,
  requests: number,
  extra: Partial<RollupRow> = {},
): RollupRow {
  return {
    minute: chTime(minute),
    account_id: s.accountId,
    route,
    operation,
    status_class: 2,
    decision: 'allowed',
    requests,
    auth_failures: 0,
    errors: 0,
    bytes_in: requests * 200,
    bytes_out: requests * 2000,
    latency_ms_sum: requests * 25,
    ...extra,
  };
}

/**
 * History before the labelled window, written straight into request_rollups_1m (raw logs for four weeks of every
 * account would not fit this machine's budget): one row per account and minute, plus limited rows and hourly
 * license-route rows where the scenario has them. Returns the rows written.
 */
export async function writeHistory(
  clickhouse: ClickHouseRepository,
  scenarios: Scenario[],
  window: ScenarioWindow,
): Promise<number> {
  const end = window.t0 - window.labelledHours * HOUR;
  const start = window.t0 - window.historyDays * 24 * HOUR;
  let batch: RollupRow[] = [];
  let written = 0;
  const flush = async () => {
    await clickhouse.insert('request_rollups_1m', batch);
    written += batch.length;
    batch = [];
  };
  for (const s of scenarios) {
    for (let t = Math.max(start, Math.ceil(s.createdAt / MINUTE) * MINUTE); t < end; t += MINUTE) {
      const n = noisy(organicRate(s, t, window.t0), s, t, 1);
      const limited = Math.round(n * s.limitedShare);
      batch.push(rollup(s, t, MAIN_ROUTE, 'read', n - limited));
      if (limited > 0) batch.push(rollup(s, t, MAIN_ROUTE, 'read', limited, { status_class: 4, decision: 'limited' }));
      if (s.licensePerMinute > 0 && t % HOUR === 0) {
        batch.push(rollup(s, t, LICENSE_ROUTE, 'auth', Math.round(s.licensePerMinute * 60)));
      }
      if (batch.length >= BATCH) await flush();
    }
  }
  await flush();
  return written;
}

interface LogSpec {
  route: string;
  method: string;
  operation: string;
  status: number;
  decision: string;
  ip: string;
}

/**
 * The labelled window as raw request logs (they reach the rollups and the token×IP table through the real
 * materialized views), plus a week of sparse token history so each token has a usual IP count. Returns the rows.
 */
export async function writeLabelledLogs(
  clickhouse: ClickHouseRepository,
  scenarios: Scenario[],
  window: ScenarioWindow,
): Promise<number> {
  const start = window.t0 - window.labelledHours * HOUR;
  let batch: RequestLogRow[] = [];
  let written = 0;
  let seq = 0;
  const flush = async () => {
    await clickhouse.insert('request_logs', batch);
    written += batch.length;
    batch = [];
  };
  const push = async (s: Scenario, minute: number, count: number, spec: LogSpec | ((i: number) => LogSpec)) => {
    for (let i = 0; i < count; i++) {
      const e = typeof spec === 'function' ? spec(i) : spec;
      seq++;
      batch.push({
        event_id: `bench-${s.index}-${seq}`,
        ts: chTime64(minute + Math.floor(((i + 0.5) / count) * MINUTE)),
        account_id: s.accountId,
        token_id: s.tokenId,
        client_ip: e.ip,
        method: e.method,
        route: e.route,
        status: e.status,
        latency_ms: 20 + (seq % 40),
        bytes_in: 200,
        bytes_out: 2000,
        operation: e.operation,
        decision: e.decision,
        request_id: `req-${seq}`,
        rule: '',
        kafka_partition: 0,
        kafka_offset: seq,
      });
    }
    if (batch.length >= BATCH) await flush();
  };
  const ipOf = (s: Scenario, i: number) => `198.51.${s.index % 250}.${(i % 2) + 1}`;

  for (const s of scenarios) {
    // A week of token history: two requests an hour from the account's usual two addresses.
    for (let t = start - 7 * 24 * HOUR; t < start; t += HOUR) {
      if (t < s.createdAt) continue;
      await push(s, t, 2, (i) => ({ ...normal, ip: ipOf(s, i) }));
    }
    for (let t = start; t < window.t0; t += MINUTE) {
      const rate = organicRate(s, t, window.t0);
      const n = noisy(rate, s, t, 1);
      const event = inEvent(s, t) ? s.event! : null;
      const limited = Math.round(n * s.limitedShare);
      const brokenKey = s.kind === 'error-storm' && event ? Math.round(n * 0.4) : 0;
      const spreadIps = s.kind === 'token-spread' && event ? event.factor : 2;
      await push(s, t, n - limited - brokenKey, (i) => ({
        ...normal,
        ip: `198.51.${s.index % 250}.${(i % spreadIps) + 1}`,
      }));
      if (limited > 0) await push(s, t, limited, { ...normal, status: 429, decision: 'limited', ip: ipOf(s, 0) });
      if (brokenKey > 0) await push(s, t, brokenKey, { ...normal, status: 401, ip: ipOf(s, 0) });
      if (s.licensePerMinute > 0) {
        const perMinute = event ? s.licensePerMinute * event.factor : s.licensePerMinute;
        await push(s, t, noisy(perMinute, s, t, 2), { ...license, ip: ipOf(s, 1) });
      }
      if (!event) continue;
      switch (s.kind) {
        case 'single-spike':
        case 'sustained-abuse':
          await push(s, t, noisy(rate * (event.factor - 1), s, t, 3), { ...normal, ip: ipOf(s, 0) });
          break;
        case 'announced-burst':
        case 'exceeded-burst':
          await push(s, t, noisy(rate * (event.factor - 1), s, t, 3), { ...bulk, ip: ipOf(s, 0) });
          break;
        case 'error-storm':
          await push(s, t, noisy(rate * event.factor, s, t, 3), (i) => ({
            ...login,
            ip: ipOf(s, i),
          }));
          break;
        default:
          break;
      }
    }
  }
  await flush();
  return written;
}

const normal: Omit<LogSpec, 'ip'> = {
  route: MAIN_ROUTE,
  method: 'GET',
  operation: 'read',
  status: 200,
  decision: 'allowed',
};
const bulk: Omit<LogSpec, 'ip'> = {
  route: IMPORT_ROUTE,
  method: 'POST',
  operation: 'bulk',
  status: 200,
  decision: 'allowed',
};
const license: Omit<LogSpec, 'ip'> = {
  route: LICENSE_ROUTE,
  method: 'POST',
  operation: 'auth',
  status: 200,
  decision: 'allowed',
};
const login: Omit<LogSpec, 'ip'> = {
  route: LOGIN_ROUTE,
  method: 'POST',
  operation: 'auth',
  status: 401,
  decision: 'allowed',
};
