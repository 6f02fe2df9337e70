import { describe, expect, it } from 'vitest';
import { type AnalyzeRequest, type AnalyzeResult, type AnalyzerService } from './analyzer.service';
import { BacktestService } from './backtest.service';

/** An analyzer stand-in: the candidate rules (configOverride set) flag account b from the second cycle on. */
function fakeAnalyzer(calls: AnalyzeRequest[]): AnalyzerService {
  return {
    analyze: (request: AnalyzeRequest): Promise<AnalyzeResult> => {
      calls.push(request);
      const cycle = calls.filter((c) => !!c.configOverride === !!request.configOverride).length;
      const account = request.configOverride ? 'b' : 'a';
      const open = request.openFlags?.has(`${account}:SUSTAINED_EXCESS`);
      const fires = request.configOverride ? cycle >= 2 : cycle === 1;
      if (fires && !open)
        request.openFlags?.set(`${account}:SUSTAINED_EXCESS`, { id: 'x', severity: 'LOW', version: 1 });
      return Promise.resolve({
        windowEnd: request.windowEnd.toISOString(),
        shard: 0,
        accounts: 2,
        baselines: 0,
        counts: { open: 0, escalate: 0, update: 0, resolve: 0, none: 0, suppressed: 0 },
        findings:
          fires && !open
            ? [
                {
                  accountId: account,
                  kind: 'SUSTAINED_EXCESS',
                  action: 'open',
                  evidence: {},
                  finding: { kind: 'SUSTAINED_EXCESS', severity: 'LOW', score: 2, summary: '', details: {} },
                },
              ]
            : [],
      });
    },
  } as unknown as AnalyzerService;
}

describe('BacktestService', () => {
  it('replays both rule sets as dry runs with their own lifecycle and diffs the flag episodes', async () => {
    const calls: AnalyzeRequest[] = [];
    const report = await new BacktestService(fakeAnalyzer(calls)).run({
      from: '2026-11-23T10:00:00Z',
      to: '2026-11-23T10:30:00Z',
      stepMinutes: 10,
      rules: { sustainedExcess: { openShare: 0.5 } },
    });
    expect(report).toMatchObject({ cycles: 3, accounts: 2, current: 1, candidate: 1 });
    expect(report.appear).toEqual([
      { accountId: 'b', kind: 'SUSTAINED_EXCESS', severity: 'LOW', firstSeenAt: '2026-11-23T10:20:00.000Z' },
    ]);
    expect(report.disappear.map((f) => f.accountId)).toEqual(['a']);
    expect(calls.every((c) => c.dryRun && c.shards === 1)).toBe(true);
    expect(
      calls.filter((c) => c.configOverride).every((c) => c.configOverride?.sustainedExcess.openShare === 0.5),
    ).toBe(true);
  });

  it('rejects invalid rules, windows and replays that are too long', async () => {
    const service = new BacktestService(fakeAnalyzer([]));
    const base = { from: '2026-11-23T10:00:00Z', to: '2026-11-23T11:00:00Z', rules: {} };
    await expect(service.run({ ...base, rules: { nope: 1 } })).rejects.toMatchObject({ code: 'invalid_rules' });
    await expect(service.run({ ...base, to: base.from })).rejects.toMatchObject({ code: 'invalid_window' });
    await expect(service.run({ ...base, to: '2026-12-30T00:00:00Z', stepMinutes: 1 })).rejects.toMatchObject({
      code: 'window_too_long',
    });
  });
});
