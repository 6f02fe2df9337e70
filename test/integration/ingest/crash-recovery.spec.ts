import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseRepository } from '@usageguard/clickhouse';
import { CONSUMER_GROUPS } from '@usageguard/contracts';
import { KafkaRepository } from '@usageguard/kafka';
import { createTestEnvironment, sleep, type TestEnvironment, waitFor } from '@usageguard/testing';
import {
  asMessages,
  committedTotal,
  deleteTestTopics,
  makeEvent,
  produce,
  storedCounts,
  uncommitted,
} from './ingest-harness';

const root = path.resolve(__dirname, '../../..');

/** The real ingest app (apps/ingest/src/main.ts) as its own process, on this test's environment. */
function startIngestProcess(env: TestEnvironment): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ingest/src/main.ts'], {
    cwd: root,
    env: { ...env.env, INGEST_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

describe('ingest consumer: kill -9 mid-batch, restart', () => {
  let env: TestEnvironment;
  let kafka: KafkaRepository;
  const running = new Set<ChildProcess>();
  const maxEvents = 200_000;

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    kafka = new KafkaRepository(env.config);
    await kafka.ensureTopics();
  });

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await deleteTestTopics(kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await kafka?.onModuleDestroy();
    await env?.cleanup();
  });

  it('stores every event exactly once, raw rows and per-minute rollups, however often the consumer is killed', async () => {
    const groupId = `${env.config.kafka.topicPrefix}${CONSUMER_GROUPS.ingest}`;
    const topic = kafka.topic('request-logs');
    const committed = () => committedTotal(kafka, groupId, topic);

    // A live stream: events keep arriving while the consumer is killed, so the kills land inside flushes.
    let produced = 0;
    let streaming = true;
    const producing = (async () => {
      while (streaming && produced < maxEvents) {
        // Stamped now, as an edge stamps them: after each restart the consumer knows what is stored from its
        // recent-events index, loaded from ClickHouse (redelivery.spec covers older events, looked up one by one).
        const ts = new Date().toISOString();
        await produce(kafka, asMessages(Array.from({ length: 1_000 }, (_, i) => makeEvent(produced + i, { ts }))));
        produced += 1_000;
        await sleep(100);
      }
    })();

    // Twice: let the consumer commit some progress, then SIGKILL it at a moment inside a later flush.
    for (const delayMs of [30, 120]) {
      const before = await committed();
      const { child, exited } = startIngestProcess(env);
      running.add(child);
      await waitFor(async () => (await committed()) > before, { timeoutMs: 90_000, what: 'a committed flush' });
      await sleep(delayMs);
      child.kill('SIGKILL');
      const producedAtKill = produced;
      expect(await exited).toBeNull(); // killed by the signal, no chance to clean up
      running.delete(child);
      const done = await committed();
      console.error(`killed the consumer: ${producedAtKill} produced, ${done} committed`);
      expect(done).toBeLessThan(producedAtKill); // it was killed with work in hand
    }
    streaming = false;
    await producing;
    const total = produced;

    const { child, exited } = startIngestProcess(env);
    running.add(child);
    await waitFor(async () => (await uncommitted(kafka, groupId, topic)) === 0, {
      timeoutMs: 120_000,
      what: 'every offset committed',
    });
    child.kill('SIGTERM');
    await exited;
    running.delete(child);

    // A consumer killed while chDB read an insert's spool file left it behind; the next one removed it.
    expect(readdirSync(path.join(env.config.clickhouse.chdbPath, 'insert-spool'))).toEqual([]);
    // chDB binds its directory to one process: read it only now that the consumer is gone.
    const clickhouse = new ClickHouseRepository(env.config);
    try {
      expect(await storedCounts(clickhouse)).toEqual({
        rows: total,
        distinctEvents: total,
        rollupRequests: total,
        mismatches: [],
      });
    } finally {
      await clickhouse.onModuleDestroy();
    }
  }, 300_000);
});
