import { Pool } from 'undici';
import { normalRate, type Persona, pickIp, pickRoute, poisson, random } from './personas';

/**
 * Live traffic through the edge, second by second. Each persona sends its normal seasonal rate; at its scheduled
 * moment a behaviour takes over (abuse, an announced burst, life at the limit, credential stuffing). Requests
 * carry the persona's token and, for the edge's X-Forwarded-For trust in the demo, a client address.
 */
export interface Timeline {
  /** Seconds after the live start at which each behaviour begins, and how long it lasts (0: until the end). */
  abuseAfterS: number;
  burstAfterS: number;
  burstForS: number;
  stuffingAfterS: number;
}

export interface LiveStats {
  sent: number;
  byStatus: Record<string, number>;
  errors: number;
}

export interface LiveOptions {
  edgeUrl: string;
  personas: Persona[];
  timeline: Timeline;
  seed: number;
  /** Stop after this many seconds (0: until stop() is called). */
  durationS: number;
  onTick?: (elapsedS: number, stats: Map<string, LiveStats>) => void;
}

export function activeBehaviour(persona: Persona, elapsedS: number, timeline: Timeline): boolean {
  switch (persona.behaviour) {
    case 'abusive':
      return elapsedS >= timeline.abuseAfterS;
    case 'announced-burst':
      return (
        elapsedS >= timeline.burstAfterS &&
        (timeline.burstForS === 0 || elapsedS < timeline.burstAfterS + timeline.burstForS)
      );
    case 'credential-stuffing':
      return elapsedS >= timeline.stuffingAfterS;
    case 'at-limit':
      return true;
    case 'normal':
      return false;
  }
}

/** Requests per minute the persona sends at this moment. */
export function liveRate(persona: Persona, now: Date, elapsedS: number, timeline: Timeline): number {
  const normal = normalRate(persona, now);
  if (!activeBehaviour(persona, elapsedS, timeline)) return normal;
  if (persona.liveFixedPerMinute !== undefined) return persona.liveFixedPerMinute;
  return Math.max(normal * (persona.liveMultiplier ?? 1), persona.liveMinPerMinute ?? 0);
}

export class LiveTraffic {
  private readonly pool: Pool;
  private readonly stats = new Map<string, LiveStats>();
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: LiveOptions) {
    this.pool = new Pool(options.edgeUrl, { connections: 32, pipelining: 1, keepAliveTimeout: 10_000 });
    for (const p of options.personas) this.stats.set(p.externalId, { sent: 0, byStatus: {}, errors: 0 });
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<Map<string, LiveStats>> {
    const rand = random(this.options.seed);
    const started = Date.now();
    for (let second = 0; !this.stopped; second++) {
      if (this.options.durationS > 0 && second >= this.options.durationS) break;
      const tickStart = started + second * 1000;
      for (const persona of this.options.personas) {
        const perSecond = liveRate(persona, new Date(tickStart), second, this.options.timeline) / 60;
        const count = poisson(perSecond, rand);
        for (let i = 0; i < count; i++) {
          const at = tickStart + Math.floor(rand() * 1000);
          this.schedule(persona, at, second, rand);
        }
      }
      this.options.onTick?.(second, this.stats);
      const wait = started + (second + 1) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.allSettled([...this.inFlight]);
    await this.pool.close();
    return this.stats;
  }

  private schedule(persona: Persona, at: number, elapsedS: number, rand: () => number): void {
    const stuffing =
      persona.behaviour === 'credential-stuffing' && activeBehaviour(persona, elapsedS, this.options.timeline);
    const { method, path } = stuffing ? { method: 'POST', path: '/v1/auth/login' } : pickRoute(persona, rand);
    // Stuffing comes from a botnet: many addresses; normal traffic from the persona's few.
    const ip = pickIp(persona, rand, stuffing ? 500 : persona.ips);
    const body =
      method === 'GET'
        ? undefined
        : JSON.stringify(stuffing ? { user: `u${Math.floor(rand() * 1e6)}`, password: 'guess' } : { name: 'thing' });
    const task = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
      .then(() => this.send(persona, method, path, ip, body))
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async send(
    persona: Persona,
    method: string,
    path: string,
    ip: string,
    body: string | undefined,
  ): Promise<void> {
    const stats = this.stats.get(persona.externalId)!;
    stats.sent++;
    try {
      const response = await this.pool.request({
        method: method,
        path,
        headers: {
          authorization: `Bearer ${persona.token}`,
          'x-forwarded-for': ip,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await response.body.dump();
      const key = String(response.statusCode);
      stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
    } catch {
      stats.errors++;
    }
  }
}
