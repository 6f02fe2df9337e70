import { type PrismaRepository } from '@usageguard/database';
import { type Scenario } from './scenarios';

export interface DetectionScore {
  scenarios: number;
  precision: number;
  recall: number;
  burst_false_flags: number;
  median_delay_s: number | null;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  misses: string[];
  falseFlags: string[];
}

/**
 * Scores every flag the analyzer ever raised (open, resolved or dismissed) against the labels: a flag of the
 * expected kind on a scenario is a true positive, any other flag a false one; an expected kind never raised is a
 * miss. Delay: first flag of the expected kind minus the event's onset.
 */
export async function scoreFlags(prisma: PrismaRepository, scenarios: Scenario[]): Promise<DetectionScore> {
  const flags = await prisma.flag.findMany({ select: { accountId: true, kind: true, firstSeenAt: true } });
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let burstFalse = 0;
  const delays: number[] = [];
  const misses: string[] = [];
  const falseFlags: string[] = [];
  for (const s of scenarios) {
    const mine = flags.filter((f) => f.accountId === s.accountId);
    const kinds = new Set(mine.map((f) => f.kind));
    for (const kind of kinds) {
      if (kind === s.expected) continue;
      fp++;
      falseFlags.push(`${s.kind}#${s.index}: ${kind}`);
      if (s.kind === 'announced-burst') burstFalse++;
    }
    if (s.expected === null) continue;
    if (!kinds.has(s.expected)) {
      fn++;
      misses.push(`${s.kind}#${s.index}: no ${s.expected}`);
      continue;
    }
    tp++;
    if (s.event) {
      const first = Math.min(...mine.filter((f) => f.kind === s.expected).map((f) => f.firstSeenAt.getTime()));
      delays.push((first - s.event.start) / 1000);
    }
  }
  delays.sort((a, b) => a - b);
  const median =
    delays.length === 0
      ? null
      : delays.length % 2
        ? delays[delays.length >> 1]
        : (delays[delays.length / 2 - 1] + delays[delays.length / 2]) / 2;
  return {
    scenarios: scenarios.length,
    precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)),
    recall: tp + fn === 0 ? 1 : round(tp / (tp + fn)),
    burst_false_flags: burstFalse,
    median_delay_s: median,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    misses,
    falseFlags,
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
