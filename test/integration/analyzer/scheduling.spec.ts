import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '@usageguard/contracts';
import { waitFor } from '@usageguard/testing';
import { startAnalyzerApp, type AnalyzerApp } from '../../../bench/scenarios/analyzer-app';

/** The repeatable cycle's fan-out, through real BullMQ workers on Redis (this test's own prefix). */
describe('analyzer scheduling', () => {
  let app: AnalyzerApp;

  beforeAll(async () => {
    app = await startAnalyzerApp({ serve: true, env: { ANALYZER_SHARDS: '3' } });
    const plan = await app.prisma.plan.create({ data: { key: 'p', name: 'P' } });
    await app.prisma.account.createMany({
      data: Array.from({ length: 12 }, (_, i) => ({ name: `a${i}`, planId: plan.id })),
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('fans a cycle out into one deterministic shard job per shard, covering every account once', async () => {
    const windowEnd = '2026-11-23T10:00:00.000Z';
    const queue = app.queue.queue(QUEUES.analyzer);
    await app.queue.enqueue(QUEUES.analyzer, 'analyze-cycle', { windowEnd }, { jobId: 'cycle-test' });
    // A duplicate trigger for the same minute adds no shard jobs.
    await app.queue.enqueue(QUEUES.analyzer, 'analyze-cycle', { windowEnd }, { jobId: 'cycle-test-duplicate' });
    const shards = 3;
    const done = await waitFor(
      async () => {
        const jobs = await queue.getJobs(['completed']);
        const shardJobs = jobs.filter((j) => j.name === 'analyze-shard');
        return shardJobs.length === shards && jobs.length === shards + 2 ? shardJobs : undefined;
      },
      { timeoutMs: 30_000, what: 'shard jobs' },
    );
    expect(done.map((j) => j.id).sort()).toEqual(
      Array.from({ length: shards }, (_, s) => `analyze-2026-11-23T100000000Z-${s}of${shards}`).sort(),
    );
    const analyzed = done.reduce((n, j) => n + (j.returnvalue as { accounts: number }).accounts, 0);
    expect(analyzed).toBe(12);
  });
});
