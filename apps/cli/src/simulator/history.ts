import { randomUUID } from 'node:crypto';
import { type RequestLogEvent } from '@usageguard/contracts';
import { operationOf, RouteTable } from '@usageguard/domain';
import { normalRate, type Persona, pickIp, pickRoute, poisson, random } from './personas';

/**
 * Weeks of normal history, so the analyzer has a baseline from the first minute of the demo: request-log events
 * with past timestamps, generated minute by minute from each persona's seasonal rate and posted to the ingest API
 * (the same path other gateways use), in calls of at most `batch` events.
 */
export interface HistoryOptions {
  ingestUrl: string;
  ingestKey: string;
  days: number;
  /** History ends here (the live traffic takes over from it). */
  until: Date;
  seed: number;
  batch: number;
  /** Hourly limit of the persona's plan, to mark history beyond it as limited (429), as the edge would. */
  hourlyLimit?: (persona: Persona) => number | undefined;
  onProgress?: (done: number, total: number) => void;
}

const routes = new RouteTable([]);

export function* historyEvents(
  persona: Persona,
  options: Omit<HistoryOptions, 'ingestUrl' | 'ingestKey'>,
): Generator<RequestLogEvent> {
  const rand = random(options.seed ^ hash(persona.externalId));
  const end = Math.floor(options.until.getTime() / 60_000) * 60_000;
  const start = end - options.days * 86_400_000;
  const limit = options.hourlyLimit?.(persona);
  let hourStart = -1;
  let inHour = 0;
  for (let minute = start; minute < end; minute += 60_000) {
    const hour = Math.floor(minute / 3_600_000);
    if (hour !== hourStart) {
      hourStart = hour;
      inHour = 0;
    }
    const count = poisson(normalRate(persona, new Date(minute)), rand);
    for (let i = 0; i < count; i++) {
      const { method, path } = pickRoute(persona, rand);
      const route = routes.resolve(path);
      inHour++;
      const limited = limit !== undefined && inHour > limit;
      const status = limited ? 429 : rand() < 0.004 ? 401 : rand() < 0.01 ? 404 : 200;
      yield {
        v: 1,
        eventId: randomUUID(),
        ts: new Date(minute + Math.floor(rand() * 60_000)).toISOString(),
        accountId: persona.accountId ?? persona.externalId,
        tokenId: persona.tokenId ?? null,
        clientIp: pickIp(persona, rand),
        method: method as RequestLogEvent['method'],
        route,
        status,
        latencyMs: limited ? 0.4 : 5 + rand() * 40,
        bytesIn: method === 'GET' ? 0 : 200 + Math.floor(rand() * 800),
        bytesOut: limited ? 60 : 300 + Math.floor(rand() * 3000),
        operation: operationOf(method, route),
        decision: limited ? 'limited' : 'allowed',
        requestId: randomUUID(),
        ...(limited ? { rule: 'per-account-hourly' } : {}),
      };
    }
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Expected number of events, for the progress bar. */
export function expectedHistory(personas: Persona[], options: { days: number; until: Date }): number {
  const end = Math.floor(options.until.getTime() / 60_000) * 60_000;
  let total = 0;
  for (const persona of personas) {
    for (let minute = end - options.days * 86_400_000; minute < end; minute += 60_000) {
      total += normalRate(persona, new Date(minute));
    }
  }
  return Math.round(total);
}

export async function postEvents(ingestUrl: string, ingestKey: string, events: RequestLogEvent[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${ingestUrl.replace(/\/$/, '')}/v1/ingest/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    if (response.status === 202) return;
    const detail = await response.text();
    // 503: Kafka is away for a moment; the call is safe to repeat (the event ids make it idempotent).
    if (response.status === 503 && attempt < 10) {
      await new Promise((r) => setTimeout(r, 500 * attempt));
      continue;
    }
    throw new Error(`ingest answered ${response.status}: ${detail.slice(0, 300)}`);
  }
}

export async function backfillHistory(personas: Persona[], options: HistoryOptions): Promise<number> {
  const total = expectedHistory(personas, options);
  let sent = 0;
  let buffer: RequestLogEvent[] = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    await postEvents(options.ingestUrl, options.ingestKey, buffer);
    sent += buffer.length;
    buffer = [];
    options.onProgress?.(sent, Math.max(total, sent));
  };
  for (const persona of personas) {
    for (const event of historyEvents(persona, options)) {
      buffer.push(event);
      if (buffer.length >= options.batch) await flush();
    }
  }
  await flush();
  return sent;
}
