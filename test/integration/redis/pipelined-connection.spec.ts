import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelinedConnection, RedisReplyError } from '@usageguard/redis';
import {
  createTestEnvironment,
  startTcpProxy,
  type TcpProxy,
  type TestEnvironment,
  waitFor,
} from '@usageguard/testing';

const options = { commandTimeoutMs: 150, connectTimeoutMs: 1000, retryDelayMs: () => 50 };

describe('PipelinedConnection (real Redis)', () => {
  let env: TestEnvironment;
  let url: URL;
  const opened: PipelinedConnection[] = [];
  const open = (target = env.config.redis.url, extra: Partial<typeof options> = {}) => {
    const connection = new PipelinedConnection(target, { ...options, ...extra });
    opened.push(connection);
    return connection;
  };
  const key = (name: string) => `${env.config.redis.prefix}pc:${name}`;

  beforeAll(async () => {
    env = await createTestEnvironment();
    url = new URL(env.config.redis.url);
  });

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.quit()));
    await env?.cleanup();
  });

  it('answers thousands of concurrent commands each with its own reply, in order', async () => {
    const redis = open();
    await redis.waitReady(2000);
    const replies = await Promise.all(
      Array.from({ length: 5000 }, (_, i) => redis.call(['INCRBY', key('counter'), i % 2 === 0 ? 1 : 2])),
    );
    // Each reply is the counter right after its own command: a running sum, so any mismatch shows.
    let sum = 0;
    replies.forEach((reply, i) => {
      sum += i % 2 === 0 ? 1 : 2;
      expect(reply).toBe(sum);
    });
    await redis.call(['DEL', key('counter')]);
  });

  it('reads replies split across socket reads (large values), nulls, arrays and binary data', async () => {
    const redis = open();
    await redis.waitReady(2000);
    const big = Buffer.alloc(3_000_000, 7);
    big[123] = 13; // a CR inside a bulk string must not end it
    const binary = Buffer.from([0, 13, 10, 255, 36, 42]);
    await redis.call(['SET', key('big'), big]);
    await redis.call(['SET', key('bin'), binary]);
    const [gotBig, mget, missing] = await Promise.all([
      redis.call(['GET', key('big')]),
      redis.call(['MGET', key('bin'), key('none')]),
      redis.call(['GET', key('none')]),
    ]);
    expect(Buffer.compare(gotBig as Buffer, big)).toBe(0);
    expect(mget).toEqual([binary, null]);
    expect(missing).toBeNull();
    expect(await redis.call(['PING'])).toBe('PONG');
    await redis.call(['DEL', key('big'), key('bin')]);
  });

  it('fails a command on an error reply and carries on', async () => {
    const redis = open();
    await redis.waitReady(2000);
    const [bad, good] = await Promise.allSettled([redis.call(['NOSUCHCOMMAND']), redis.call(['PING'])]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RedisReplyError);
    expect(good).toEqual({ status: 'fulfilled', value: 'PONG' });
  });

  it('times a slow command out, drops its late answer and keeps later answers matched', async () => {
    const redis = open();
    await redis.waitReady(2000);
    const slow = redis.call(['BLPOP', key('never'), '0.4']); // Redis answers after 400 ms; we wait 150
    await expect(slow).rejects.toThrow(/timed out/);
    await new Promise((resolve) => setTimeout(resolve, 350)); // the late nil answer arrives and is dropped
    expect(await redis.call(['ECHO', 'after'])).toEqual(Buffer.from('after'));
    expect(redis.status).toBe('ready');
  });

  it('fails at once while disconnected (no offline queue) and reconnects by itself', async () => {
    const proxy: TcpProxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
    try {
      const redis = open(`redis://127.0.0.1:${proxy.port}${url.pathname}`);
      await redis.waitReady(2000);
      expect(await redis.call(['PING'])).toBe('PONG');
      const inFlight = redis.call(['BLPOP', key('never'), '1']);
      proxy.cut();
      await expect(inFlight).rejects.toThrow(/lost|timed out/);
      await waitFor(() => redis.status === 'connecting', { timeoutMs: 2000 });
      // Refused by the client itself, not timed out: nothing waits for a connection that is not there.
      await expect(redis.call(['PING'])).rejects.toThrow(/connection is connecting/);
      proxy.restore();
      await waitFor(() => redis.status === 'ready', { timeoutMs: 5000 });
      expect(await redis.call(['PING'])).toBe('PONG');
    } finally {
      await proxy.close();
    }
  });

  it('keeps retrying a refused handshake and names the reason to the commands it refuses meanwhile', async () => {
    // The local Redis has no password, so AUTH is refused: the connection never becomes ready.
    const refused = new URL(env.config.redis.url);
    refused.password = 'not-the-password';
    const redis = open(refused.toString());
    const refusal = await waitFor(
      async () => {
        const message = await redis.call(['PING']).then(String, (e: Error) => e.message);
        return message.includes('last error') && message;
      },
      { timeoutMs: 3000, what: 'a refusal that names the failed handshake' },
    );
    expect(refusal).toMatch(/^Redis connection is connecting \(last error: .*AUTH/i);
    expect(redis.status).toBe('connecting');
  });

  it('selects the database named in the URL', async () => {
    const other = new URL(env.config.redis.url);
    other.pathname = '/3';
    const redis = open(other.toString());
    await redis.waitReady(2000);
    await redis.call(['SET', key('db'), 'three']);
    const main = open();
    await main.waitReady(2000);
    expect(await main.call(['GET', key('db')])).toBeNull();
    expect(await redis.call(['GET', key('db')])).toEqual(Buffer.from('three'));
    await redis.call(['DEL', key('db')]);
  });
});
