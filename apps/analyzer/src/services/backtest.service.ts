import { Inject, Injectable } from '@nestjs/common';
import type { BacktestFlag, BacktestReport } from '@usageguard/contracts';
import { type OpenFlagView, parseDetectionConfig } from '@usageguard/domain';
import { DomainError } from '@usageguard/observability';
import { AnalyzerService } from './analyzer.service';

const MINUTE = 60_000;
const MAX_CYCLES = 3000;

/**
 * Replays stored history through the analyzer twice, with each plan's current rules and with a candidate rule set,
 * as dry runs (no flags written, no jobs): each run keeps its own flag lifecycle, so hysteresis behaves as it would
 * live. Lists the flags that would appear or disappear (one entry per account × kind episode).
 */
@Injectable()
export class BacktestService {
  constructor(@Inject(AnalyzerService) private readonly analyzer: AnalyzerService) {}

  async run(input: { from: string; to: string; stepMinutes?: number; rules: unknown }): Promise<BacktestReport> {
    let candidate;
    try {
      candidate = parseDetectionConfig(input.rules);
    } catch (error) {
      throw new DomainError('invalid_rules', (error as Error).message, 400);
    }
    const from = Math.floor(Date.parse(input.from) / MINUTE) * MINUTE;
    const to = Date.parse(input.to);
    const step = (input.stepMinutes ?? 5) * MINUTE;
    if (!(to > from)) throw new DomainError('invalid_window', 'to must be after from', 400);
    if ((to - from) / step > MAX_CYCLES) {
      throw new DomainError(
        'window_too_long',
        `at most ${MAX_CYCLES} cycles; widen stepMinutes or narrow the window`,
        400,
      );
    }
    const states = { current: new Map<string, OpenFlagView>(), candidate: new Map<string, OpenFlagView>() };
    const episodes = { current: new Map<string, BacktestFlag[]>(), candidate: new Map<string, BacktestFlag[]>() };
    let cycles = 0;
    let accounts = 0;
    for (let end = from + step; end <= to; end += step) {
      cycles++;
      for (const run of ['current', 'candidate'] as const) {
        const result = await this.analyzer.analyze({
          windowEnd: new Date(end),
          shard: 0,
          shards: 1,
          dryRun: true,
          openFlags: states[run],
          configOverride: run === 'candidate' ? candidate : undefined,
        });
        accounts = result.accounts;
        for (const finding of result.findings) {
          if (finding.action !== 'open') continue;
          const key = `${finding.accountId}:${finding.kind}`;
          const list = episodes[run].get(key) ?? [];
          list.push({
            accountId: finding.accountId,
            kind: finding.kind,
            severity: finding.finding.severity,
            firstSeenAt: new Date(end).toISOString(),
          });
          episodes[run].set(key, list);
        }
      }
    }
    const flatten = (m: Map<string, BacktestFlag[]>) => [...m.values()].flat();
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      cycles,
      accounts,
      current: flatten(episodes.current).length,
      candidate: flatten(episodes.candidate).length,
      appear: [...episodes.candidate].filter(([key]) => !episodes.current.has(key)).flatMap(([, list]) => list),
      disappear: [...episodes.current].filter(([key]) => !episodes.candidate.has(key)).flatMap(([, list]) => list),
    };
  }
}
