import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseRepository } from '@usageguard/clickhouse';
import { parseRequestLogEvent, type RequestLogEvent } from '@usageguard/contracts';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import { intakeBody, type IntakeRow } from '../../../apps/ingest/src/services/intake-body';
import { RequestLogStore } from '../../../apps/ingest/src/services/request-log-store.service';

const event = (eventId: string, accountId: string, i: number): RequestLogEvent => {
  const parsed = parseRequestLogEvent({
    v: 1,
    eventId,
    ts: new Date(Date.UTC(2026, 10, 23, 10, 0, 0, i)).toISOString(),
    accountId,
    tokenId: null,
    clientIp: '203.0.113.7',
    method: 'GET',
    route: '/v1/things/:id',
    status: 200,
    latencyMs: 3,
    bytesIn: 10,
    bytesOut: 20,
    operation: 'read',
    decision: 'allowed',
    requestId: `r-${i}`,
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
};

const intake = (events: RequestLogEvent[]): IntakeRow[] =>
  events.map((e, i) => ({ event: e, line: Buffer.from(JSON.stringify(e)), partition: 0, offset: i }));

describe('RequestLogStore event-id lookup (real chDB)', () => {
  let env: TestEnvironment;
  let clickhouse: ClickHouseRepository;
  let store: RequestLogStore;

  beforeAll(async () => {
    env = await createTestEnvironment();
    clickhouse = new ClickHouseRepository(env.config);
    await clickhouse.migrate();
    store = new RequestLogStore(clickhouse);
  });

  afterAll(async () => {
    await clickhouse?.onModuleDestroy();
    await env?.cleanup();
  });

  it('finds exactly the stored events, whatever printable characters their ids and accounts hold', async () => {
    // Every id the contract allows is printable ASCII without spaces: quotes, backslashes, commas, brackets included.
    const awkward = [`it's`, 'back\\slash', 'comma,id', 'quote"id', '{brace}', '[1,2]', '%20', 'x'.repeat(128)];
    const accounts = [`o'brien`, 'acct\\1', 'acct,2'];
    const stored = awkward.map((id, i) => event(id, accounts[i % accounts.length], i));
    await store.insertIntakeBody(intakeBody(intake(stored), false));
    // The same accounts and times, ids not stored: some differ from a stored one only by the characters above.
    const fresh = [`its`, 'back\\\\slash', 'comma', 'id', 'x'.repeat(127)].map((id, i) =>
      event(id, accounts[i % accounts.length], i),
    );
    const found = await store.existingEventIds([...fresh, ...stored]);
    expect([...found].sort()).toEqual([...awkward].sort());
  });

  it('looks up more events than one query takes, in chunks', async () => {
    const stored = Array.from({ length: 12_500 }, (_, i) => event(`bulk-${i}`, `acct-${i % 7}`, i));
    await store.insertIntakeBody(intakeBody(intake(stored), false));
    const asked = [...stored.filter((_, i) => i % 3 === 0), ...stored.map((e, i) => event(`new-${i}`, e.accountId, i))];
    const found = await store.existingEventIds(asked);
    expect(found.size).toBe(Math.ceil(12_500 / 3));
    for (let i = 0; i < 12_500; i += 3) expect(found.has(`bulk-${i}`)).toBe(true);
  });
});
