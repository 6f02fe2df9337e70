import { startAnalyzerApp } from './scenarios/analyzer-app';
import { DEFAULT_COUNTS, buildScenarios, type ScenarioKind, type ScenarioWindow } from './scenarios/scenarios';
import { scoreFlags } from './scenarios/score';
import { writeAccounts, writeHistory, writeLabelledLogs } from './scenarios/writer';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

/**
 * `npm run bench -- detection [--seed 42] [--scale 1] [--step 1] [--history-days 28]`: seeded labelled scenarios
 * (steady, daily peaks, spikes, announced and exceeded bursts, abuse, ramps, new accounts, weekend lulls, error
 * storms, endpoint hammering, token spread, limit pressure) written into ClickHouse: four weeks of history as
 * per-minute rollups, the labelled three hours as raw request logs through the real materialized views. The real
 * analyzer then runs every `step` minutes across the labelled window, writing real flags in Postgres, which are
 * scored against the labels.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seed = option(args, 'seed', 42);
  const scale = option(args, 'scale', 1);
  const step = option(args, 'step', 1) * MINUTE;
  const window: ScenarioWindow = {
    t0: Math.floor(Date.now() / HOUR) * HOUR,
    labelledHours: 3,
    historyDays: option(args, 'history-days', 28),
  };
  const counts = Object.fromEntries(
    Object.entries(DEFAULT_COUNTS).map(([k, n]) => [k, Math.max(1, Math.round(n * scale))]),
  ) as Record<ScenarioKind, number>;
  const scenarios = buildScenarios(seed, window, counts);
  const app = await startAnalyzerApp();
  try {
    let started = Date.now();
    await writeAccounts(app.prisma, scenarios);
    const history = await writeHistory(app.clickhouse, scenarios, window);
    console.error(`history: ${history} rollup rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    started = Date.now();
    const logs = await writeLabelledLogs(app.clickhouse, scenarios, window);
    console.error(`labelled window: ${logs} request logs in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    started = Date.now();
    let cycles = 0;
    const first = window.t0 - window.labelledHours * HOUR + 30 * MINUTE;
    for (let end = first; end <= window.t0; end += step) {
      await app.analyzer.analyze({ windowEnd: new Date(end), shard: 0, shards: 1 });
      cycles++;
    }
    console.error(`${cycles} analyzer cycles in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const score = await scoreFlags(app.prisma, scenarios);
    for (const line of [...score.misses, ...score.falseFlags]) console.error(`  ${line}`);
    return {
      scenarios: score.scenarios,
      precision: score.precision,
      recall: score.recall,
      burst_false_flags: score.burst_false_flags,
      median_delay_s: score.median_delay_s,
      true_positives: score.truePositives,
      false_positives: score.falsePositives,
      false_negatives: score.falseNegatives,
      seed,
      cycles,
      history_rollup_rows: history,
      labelled_request_logs: logs,
    };
  } finally {
    await app.close();
  }
}
