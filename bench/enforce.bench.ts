import { type INestApplicationContext } from '@nestjs/common';
import { restrictionKeys } from '@usageguard/contracts';
import { PrismaRepository } from '@usageguard/database';
import { QueueRepository } from '@usageguard/queue';
import { RedisRepository } from '@usageguard/redis';
import { bearer, createEdgeWorld, startEdge, startUpstream } from '../test/integration/edge/edge-harness';
import { startEnforcer } from '../test/integration/enforcer/harness';
import { startSmtpSink } from '../test/integration/enforcer/smtp-sink';

/**
 * `npm run bench -- enforce [--flags N] [--concurrency C] [--duration S]`: the time from a flag written (as the
 * analyzer writes it: the row, then the evaluate-flag job) to the edge — a real edge process in front of an
 * upstream — answering that account's requests with the restriction's status, over many flags; then the emails
 * those restrictions cause (applied, and lifted at expiry), counted at a real SMTP server by Message-ID.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const flags = option('flags', 200);
  const concurrency = option('concurrency', 10);
  const durationSeconds = option('duration', 10);
  const pollMs = 5;

  const world = await createEdgeWorld();
  const upstream = await startUpstream();
  const smtp = await startSmtpSink();
  let enforcer: INestApplicationContext | undefined;
  let edge: Awaited<ReturnType<typeof startEdge>> | undefined;
  try {
    edge = await startEdge({ ...world.env.env, EDGE_UPSTREAM_URL: upstream.url, LOG_LEVEL: 'warn' });
    Object.assign(process.env, world.env.env, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, LOG_LEVEL: 'error' });
    enforcer = await startEnforcer();
    const prisma = enforcer.get(PrismaRepository);
    const queue = enforcer.get(QueueRepository);
    const planId = world.plans.get('kobble-reasonable-use')!;
    await prisma.plan.update({
      where: { id: planId },
      data: {
        enforcementConfig: {
          ladder: [{ mode: 'block', durationSeconds }],
          startRung: { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
          autoApplyFrom: 'LOW',
        },
      },
    });

    process.stderr.write(`enforce: ${flags} accounts… `);
    const accounts: { accountId: string; secret: string }[] = [];
    for (let i = 0; i < flags; i++) {
      const acct = await world.account('kobble-reasonable-use');
      await prisma.notificationContact.create({ data: { accountId: acct.accountId, email: `ops-${i}@bench.test` } });
      accounts.push(acct);
    }
    process.stderr.write('done\n');

    // Also when the record is announced on the contract's channel (what every edge reacts to), to tell the
    // enforcer's share from the edge's.
    const redis = enforcer.get(RedisRepository);
    const announcedAt = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    const subscriber = redis.connect();
    subscriber.on('message', (_channel: string, message: string) => {
      const a = JSON.parse(message) as { action: string; accountId: string };
      if (a.action !== 'upsert' || announcedAt.has(a.accountId)) return;
      announcedAt.set(a.accountId, performance.now());
      waiting.get(a.accountId)?.();
    });
    await subscriber.subscribe(restrictionKeys.channel(redis.prefix));
    const contract: number[] = [];
    const latencies: number[] = [];
    let next = 0;
    const gatewayUrl = edge.url;
    const worker = async () => {
      for (let i = next++; i < accounts.length; i = next++) {
        const { accountId, secret } = accounts[i];
        const started = performance.now();
        const flag = await prisma.flag.create({
          data: { accountId, kind: 'SUSTAINED_EXCESS', severity: 'HIGH', openKey: `${accountId}:SUSTAINED_EXCESS` },
        });
        const announced = new Promise<void>((resolve) => waiting.set(accountId, resolve));
        await queue.enqueue(
          'enforcer',
          'evaluate-flag',
          { flagId: flag.id, flagVersion: 1 },
          { jobId: `flag-${flag.id}-v1` },
        );
        // The record is in Redis before its announcement (one script), so no edge can answer 503 earlier: polling
        // starts there, which keeps the measurement from loading the machine it measures.
        if (!announcedAt.has(accountId)) await announced;
        for (;;) {
          const res = await fetch(`${gatewayUrl}/v1/bench`, { headers: bearer(secret) });
          await res.arrayBuffer();
          if (res.status === 503) break;
          if (performance.now() - started > 30_000) throw new Error(`flag ${flag.id}: no restriction at the edge`);
          await new Promise((r) => setTimeout(r, pollMs));
        }
        latencies.push(performance.now() - started);
        contract.push(announcedAt.get(accountId)! - started);
        if (latencies.length % 50 === 0)
          process.stderr.write(`  ${latencies.length}/${flags} restricted at the edge\n`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));

    process.stderr.write('waiting for expiries and emails…\n');
    const expected = flags * 2;
    const deadline = Date.now() + (durationSeconds + 120) * 1000;
    for (;;) {
      const open = await prisma.notification.count({ where: { status: 'PENDING' } });
      const active = await prisma.restriction.count({ where: { status: 'ACTIVE' } });
      const rows = await prisma.notification.count();
      if ((open === 0 && active === 0 && rows === expected) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const notifications = await prisma.notification.findMany({ select: { messageId: true, status: true } });
    const ours = new Set(notifications.map((n) => n.messageId).filter((id): id is string => id !== null));
    const counts = new Map<string, number>();
    for (const email of smtp.received) counts.set(email.messageId, (counts.get(email.messageId) ?? 0) + 1);
    const delivered = [...counts.keys()].filter((id) => ours.has(id)).length;
    const duplicated = [...counts.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);

    const at = (values: number[], q: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
    };
    return {
      flags,
      p50_ms: at(latencies, 0.5),
      p99_ms: at(latencies, 0.99),
      max_ms: at(latencies, 1),
      announced_p50_ms: at(contract, 0.5),
      announced_p99_ms: at(contract, 0.99),
      emails_sent: delivered,
      emails_duplicated: duplicated,
      emails_lost: expected - delivered,
      emails_held: notifications.filter((n) => n.status === 'FAILED').length,
      concurrency,
      measured_at: 'edge',
    };
  } finally {
    await enforcer?.close();
    await edge?.stop();
    await upstream.close();
    await smtp.close();
    await world.cleanup();
  }
}
