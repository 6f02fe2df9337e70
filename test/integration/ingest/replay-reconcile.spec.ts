import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_GROUPS } from '@usageguard/contracts';
import { issueSecret } from '@usageguard/domain';
import { RequestLogProducer } from '@usageguard/kafka';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';
import { parseLine, replayFile, routeTemplate } from '../../../apps/cli/src/commands/replay.command';
import type { ReconciliationReport } from '../../../apps/ingest/src/dtos/reconciliation.dto';
import {
  deleteTestTopics,
  type IngestApp,
  makeEvent,
  startIngestApp,
  storedCounts,
  uncommitted,
} from './ingest-harness';

const root = path.resolve(__dirname, '../../..');
const run = promisify(execFile);

describe('usageguard replay and reconciliation', () => {
  let env: TestEnvironment;
  let ingest: IngestApp;
  let dir: string;
  let key: string;
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
  const nginxTime = () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const p = (n: number) => String(n).padStart(2, '0');
    return `${p(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:05 +0000`;
  };

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    ingest = await startIngestApp(env, { ingest: { batchMaxRows: 500, flushIntervalMs: 20 } });
    const issued = issueSecret('ingest');
    await ingest.prisma.ingestKey.create({ data: { name: 'ops', prefix: issued.prefix, secretHash: issued.hash } });
    key = issued.secret;
    dir = mkdtempSync(path.join(tmpdir(), 'ug-replay-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteTestTopics(ingest.kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await ingest?.close();
    await env?.cleanup();
  });

  const drained = () =>
    waitFor(
      async () =>
        (await uncommitted(
          ingest.kafka,
          `${env.config.kafka.topicPrefix}${CONSUMER_GROUPS.ingest}`,
          ingest.kafka.topic('request-logs'),
        )) === 0,
      { timeoutMs: 60_000, what: 'all offsets committed' },
    );

  it('parses nginx and Envoy access lines into events with route templates', () => {
    expect(routeTemplate('/v1/contacts/42/notes/6f1c2a90-1b2c-4d5e-8f90-0123456789ab?x=1')).toBe(
      '/v1/contacts/:id/notes/:id',
    );
    const nginx = parseLine(
      'nginx',
      `203.0.113.7 - - [${nginxTime()}] "POST /v1/auth/token HTTP/1.1" 429 87 "-" "curl/8.5" 0.004`,
      { source: 'access.log', line: 1, accountId: 'acct-n' },
    );
    expect(nginx).toMatchObject({
      ok: true,
      event: {
        accountId: 'acct-n',
        clientIp: '203.0.113.7',
        method: 'POST',
        route: '/v1/auth/token',
        status: 429,
        bytesOut: 87,
        latencyMs: 4,
        operation: 'auth',
        decision: 'limited',
      },
    });
    const envoy = parseLine(
      'envoy',
      `[${now.toISOString()}] "GET /api/v1/locations/17 HTTP/2" 200 - 154 1024 226 100 "10.0.35.28, 10.0.0.1" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"`,
      { source: 'envoy.log', line: 3, accountId: 'acct-e' },
    );
    expect(envoy).toMatchObject({
      ok: true,
      event: {
        clientIp: '10.0.35.28',
        route: '/api/v1/locations/:id',
        bytesIn: 154,
        bytesOut: 1024,
        latencyMs: 226,
        requestId: 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2',
        operation: 'read',
      },
    });
    expect(parseLine('nginx', 'garbage', { source: 'x', line: 1, accountId: 'a' })).toMatchObject({ ok: false });
  });

  it('replays NDJSON (gzip), CSV, nginx and Envoy files; invalid lines are reported, a second replay adds nothing', async () => {
    const producer = ingest.app.get(RequestLogProducer);
    const ndjson = path.join(dir, 'events.ndjson.gz');
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent(i, { ts: new Date(now.getTime() + i * 1_000).toISOString() }),
    );
    writeFileSync(ndjson, gzipSync(events.map((e) => JSON.stringify(e)).join('\n') + '\n{"v":1,"eventId":"broken"}\n'));
    const csv = path.join(dir, 'gateway.csv');
    writeFileSync(
      csv,
      [
        'event_id,ts,account_id,token_id,client_ip,method,route,status,latency_ms,bytes_in,bytes_out,operation,decision,request_id',
        `csv-1,${now.toISOString()},acct-c,,10.1.1.1,GET,"/v1/a,b",200,3.5,0,10,read,allowed,r1`,
        `csv-2,${now.toISOString()},acct-c,tok-1,10.1.1.2,PUT,/v1/a,201,4,12,0,write,allowed,r2`,
        `csv-3,${now.toISOString()},acct-c,tok-1,10.1.1.2,PUT,/v1/a,2000,4,12,0,write,allowed,r3`,
      ].join('\n'),
    );
    const nginx = path.join(dir, 'nginx-access.log');
    writeFileSync(
      nginx,
      [
        `198.51.100.1 - - [${nginxTime()}] "GET /v1/items/1 HTTP/1.1" 200 512 "-" "ua" 0.010`,
        `198.51.100.2 - - [${nginxTime()}] "DELETE /v1/items/2 HTTP/1.1" 204 0 "-" "ua"`,
        'not a log line',
      ].join('\n'),
    );
    const envoy = path.join(dir, 'envoy.log');
    writeFileSync(
      envoy,
      `[${now.toISOString()}] "GET /api/v1/locations HTTP/2" 200 - 0 300 12 11 "-" "ua" "req-env-1" "h" "u"\n`,
    );

    const s1 = await replayFile(ndjson, { format: 'ndjson' }, producer);
    expect(s1).toMatchObject({ published: 40, invalid: 1, errors: [{ line: 41 }] });
    const s3 = await replayFile(nginx, { format: 'nginx', accountId: 'acct-n' }, producer);
    expect(s3).toMatchObject({ published: 2, invalid: 1 });
    const s4 = await replayFile(envoy, { format: 'envoy', accountId: 'acct-e' }, producer);
    expect(s4).toMatchObject({ published: 1, invalid: 0 });

    // The CLI itself, as an operator runs it: a child process on this test's environment.
    const cli = await run(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'replay', csv, '--json'],
      {
        cwd: root,
        env: { ...env.env, LOG_LEVEL: 'error' },
      },
    ).catch((error: { code: number; stdout: string }) => error);
    expect('code' in cli ? cli.code : 0).toBe(2); // one invalid line
    const s2 = JSON.parse(cli.stdout.trim().split('\n').pop()!) as {
      published: number;
      invalid: number;
      errors: unknown[];
    };
    expect(s2).toMatchObject({
      published: 2,
      invalid: 1,
      errors: [{ line: 4, reason: expect.stringContaining('status') as unknown }],
    });

    await drained();
    expect((await storedCounts(ingest.clickhouse)).rows).toBe(45);

    await replayFile(nginx, { format: 'nginx', accountId: 'acct-n' }, producer);
    await replayFile(ndjson, { format: 'ndjson' }, producer);
    await drained();
    expect(await storedCounts(ingest.clickhouse)).toEqual({
      rows: 45,
      distinctEvents: 45,
      rollupRequests: 45,
      mismatches: [],
    });
  });

  it('reconciles Kafka against ClickHouse per account and minute, and reports a difference', async () => {
    const window = {
      from: new Date(now.getTime() - 60_000).toISOString(),
      to: new Date(now.getTime() + 5 * 60_000).toISOString(),
    };
    const get = async (q: Record<string, string>) => {
      const response = await fetch(`${ingest.url}/v1/ingest/reconciliation?${new URLSearchParams(q).toString()}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return { status: response.status, body: (await response.json()) as ReconciliationReport };
    };
    const clean = await get(window);
    expect(clean.status).toBe(200);
    expect(clean.body).toMatchObject({
      consistent: true,
      differences: [],
      totals: { kafka: 45, stored: 45, rollup: 45 },
    });
    expect(clean.body.invalidMessages).toBe(0);

    // Lose two rows behind the pipeline's back (as a bad manual delete would).
    await ingest.clickhouse.command(
      `DELETE FROM ${ingest.clickhouse.database}.request_logs WHERE event_id IN ('csv-1', 'csv-2')`,
      {},
      { mutations_sync: '2' },
    );
    const broken = await get({ ...window, accountId: 'acct-c' });
    expect(broken.body.consistent).toBe(false);
    expect(broken.body.differences).toEqual([
      { accountId: 'acct-c', minute: expect.any(String) as unknown, kafka: 2, stored: 0, distinct: 0, rollup: 2 },
    ]);

    const cli = await run(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'apps/cli/src/main.ts',
        'reconcile',
        '--from',
        window.from,
        '--to',
        window.to,
        '--url',
        ingest.url,
        '--key',
        key,
      ],
      { cwd: root, env: { ...env.env, LOG_LEVEL: 'error' } },
    ).catch((error: { code: number; stdout: string }) => error);
    expect('code' in cli ? cli.code : 0).toBe(1);
    expect(cli.stdout).toContain('acct-c');

    expect((await get({ from: 'yesterday', to: window.to })).status).toBe(400);
  });
});
