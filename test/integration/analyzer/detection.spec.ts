import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_BASELINES_TABLE } from '@usageguard/clickhouse';
import { QUEUES } from '@usageguard/contracts';
import { hashSecret, shardOf } from '@usageguard/domain';
import { startAnalyzerApp, type AnalyzerApp } from '../../../bench/scenarios/analyzer-app';
import { buildScenarios, type Scenario, type ScenarioWindow } from '../../../bench/scenarios/scenarios';
import { writeAccounts, writeHistory, writeLabelledLogs } from '../../../bench/scenarios/writer';

const MINUTE = 60_000;

interface Evidence {
  series: { requests: number; upper: number }[];
  band: Record<string, unknown>;
  rule: { threshold: Record<string, unknown> };
  top: Record<'routes' | 'tokens' | 'ips', { value: string; requests: number }[]>;
  burstNotices: Record<string, unknown>[];
}
const HOUR = 60 * MINUTE;

/**
 * The real analyzer over real ClickHouse (chDB) and Postgres: a week of rollup history, three labelled hours of raw
 * request logs through the materialized views, cycles every five minutes as the scheduler would run them.
 */
describe('analyzer detection over ClickHouse data', () => {
  let app: AnalyzerApp;
  let scenarios: Scenario[];
  let window: ScenarioWindow;
  const byKind = (kind: Scenario['kind']) => scenarios.find((s) => s.kind === kind)!;

  beforeAll(async () => {
    app = await startAnalyzerApp();
    window = { t0: Math.floor(Date.now() / HOUR) * HOUR, labelledHours: 3, historyDays: 8 };
    scenarios = buildScenarios(7, window, {
      steady: 1,
      'single-spike': 1,
      'announced-burst': 1,
      'exceeded-burst': 1,
      'sustained-abuse': 1,
    });
    await writeAccounts(app.prisma, scenarios);
    await writeHistory(app.clickhouse, scenarios, window);
    await writeLabelledLogs(app.clickhouse, scenarios, window);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('stays quiet before any event', async () => {
    const start = window.t0 - window.labelledHours * HOUR + 30 * MINUTE;
    const result = await app.analyzer.analyze({ windowEnd: new Date(start), shard: 0, shards: 1 });
    expect(result.accounts).toBe(scenarios.length);
    expect(result.findings).toEqual([]);
    expect(await app.prisma.flag.count()).toBe(0);
    // The bands it judged against are stored for the dashboard: account × operation × hour.
    const rows = await app.clickhouse.query<{ account_id: string; operation: string; upper: number; samples: number }>(
      `SELECT account_id, operation, upper, samples FROM ${app.clickhouse.table(ACCOUNT_BASELINES_TABLE)} FINAL
       WHERE account_id = {account:String} AND operation = '*'`,
      { account: byKind('steady').accountId },
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].samples).toBeGreaterThan(0);
    expect(rows[0].upper).toBeGreaterThan(byKind('steady').base);
  });

  it('flags sustained abuse and an exceeded burst, not a spike or a burst inside its envelope', async () => {
    const first = window.t0 - window.labelledHours * HOUR + 35 * MINUTE;
    for (let end = first; end <= window.t0; end += 5 * MINUTE) {
      await app.analyzer.analyze({ windowEnd: new Date(end), shard: 0, shards: 1 });
    }
    const flags = await app.prisma.flag.findMany();
    const flagged = new Map(flags.map((f) => [f.accountId, f]));
    expect(flagged.has(byKind('steady').accountId)).toBe(false);
    expect(flagged.has(byKind('single-spike').accountId)).toBe(false);
    expect(flagged.has(byKind('announced-burst').accountId)).toBe(false);
    expect(flagged.get(byKind('sustained-abuse').accountId)?.kind).toBe('SUSTAINED_EXCESS');
    expect(flagged.get(byKind('exceeded-burst').accountId)?.kind).toBe('SUSTAINED_EXCESS');
    expect(flags).toHaveLength(2);
  });

  it('records evidence: series, band, threshold, top routes, tokens and IPs, and the burst notice', async () => {
    const abuse = await app.prisma.flag.findFirstOrThrow({ where: { accountId: byKind('sustained-abuse').accountId } });
    expect(abuse.status).toBe('OPEN');
    expect(abuse.openKey).toBe(`${abuse.accountId}:SUSTAINED_EXCESS`);
    const evidence = abuse.evidence as unknown as Evidence;
    expect(evidence.series).toHaveLength(30);
    expect(evidence.series[29]).toMatchObject({ requests: expect.any(Number), upper: expect.any(Number) });
    expect(evidence.band).toMatchObject({ operation: '*', centre: expect.any(Number), upper: expect.any(Number) });
    expect(evidence.rule.threshold).toMatchObject({ openShare: 0.6, floorPerMinute: 20 });
    expect(evidence.top.routes[0].value).toBe('GET /v1/items');
    expect(evidence.top.tokens[0].value).toBe(byKind('sustained-abuse').tokenId);
    expect(evidence.top.ips.length).toBeGreaterThan(0);
    expect(evidence.burstNotices).toEqual([]);

    const exceeded = await app.prisma.flag.findFirstOrThrow({
      where: { accountId: byKind('exceeded-burst').accountId },
    });
    const notices = (exceeded.evidence as unknown as Evidence).burstNotices;
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      status: 'APPROVED',
      expectedPerMinute: byKind('exceeded-burst').notice!.expectedPerMinute,
    });
  });

  it('enqueues one evaluate-flag job per flag state, with a deterministic id', async () => {
    const flags = await app.prisma.flag.findMany();
    for (const flag of flags) {
      const job = await app.queue.queue(QUEUES.enforcer).getJob(`flag-${flag.id}-v${flag.version}`);
      expect(job?.name).toBe('evaluate-flag');
      expect(job?.data).toEqual({ flagId: flag.id, flagVersion: flag.version });
    }
    const waiting = await app.queue.queue(QUEUES.enforcer).getJobs(['waiting', 'delayed', 'prioritized']);
    expect(waiting.length).toBe(flags.reduce((n, f) => n + f.version, 0));
  });

  it('keeps one open flag per account and kind when a cycle repeats, and resolves it once traffic is normal', async () => {
    const abuse = byKind('sustained-abuse');
    await app.analyzer.analyze({ windowEnd: new Date(window.t0), shard: 0, shards: 1 });
    expect(await app.prisma.flag.count({ where: { accountId: abuse.accountId } })).toBe(1);
    // Ninety minutes later the labelled traffic has ended: the window is empty, so the rule no longer holds.
    await app.analyzer.analyze({ windowEnd: new Date(window.t0 + 90 * MINUTE), shard: 0, shards: 1 });
    const flag = await app.prisma.flag.findFirstOrThrow({ where: { accountId: abuse.accountId } });
    expect(flag).toMatchObject({ status: 'RESOLVED', openKey: null });
    expect(flag.resolvedAt?.getTime()).toBe(window.t0 + 90 * MINUTE);
    const audit = await app.prisma.auditEvent.findMany({ where: { targetId: flag.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['flag.opened', 'flag.resolved']));
  });

  it('splits accounts over shards so each is analyzed exactly once', async () => {
    const seen: number[] = [];
    for (let shard = 0; shard < 3; shard++) {
      const result = await app.analyzer.analyze({
        windowEnd: new Date(window.t0),
        shard,
        shards: 3,
        dryRun: true,
      });
      seen.push(result.accounts);
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(scenarios.length);
    const expected = [0, 1, 2].map((shard) => scenarios.filter((s) => shardOf(s.accountId, 3) === shard).length);
    expect(seen).toEqual(expected);
  });

  it('backtests a changed rule set over stored history: lists flags that would disappear, for ops only', async () => {
    const session = async (role: 'VIEWER' | 'OPERATOR') => {
      const user = await app.prisma.opsUser.create({
        data: { email: `${role.toLowerCase()}@ops.example`, passwordHash: 'x', role },
      });
      const token = `session-${role}`;
      await app.prisma.opsSession.create({
        data: {
          tokenHash: hashSecret(token),
          userId: user.id,
          csrfToken: `csrf-${role}`,
          expiresAt: new Date(Date.now() + HOUR),
        },
      });
      return { cookie: `ug_session=${token}`, 'x-csrf-token': `csrf-${role}` };
    };
    const body = {
      from: new Date(window.t0 - window.labelledHours * HOUR).toISOString(),
      to: new Date(window.t0).toISOString(),
      stepMinutes: 10,
      rules: { sustainedExcess: { openShare: 0.99, minExcessRequests: 1e9 } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${app.url}/api/analyzer/backtest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await post({})).status).toBe(401);
    expect((await post(await session('VIEWER'))).status).toBe(403);
    const operator = await session('OPERATOR');
    expect((await post({ cookie: operator.cookie })).status).toBe(403);

    const flagsBefore = await app.prisma.flag.count();
    const response = await post(operator);
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      cycles: number;
      appear: unknown[];
      disappear: { accountId: string; kind: string }[];
    };
    expect(report.cycles).toBe(18);
    expect(report.appear).toEqual([]);
    expect(report.disappear.map((f) => f.accountId).sort()).toEqual(
      [byKind('sustained-abuse').accountId, byKind('exceeded-burst').accountId].sort(),
    );
    // A dry run: nothing written to the flags.
    expect(await app.prisma.flag.count()).toBe(flagsBefore);
  });
});
