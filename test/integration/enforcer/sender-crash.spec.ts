import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type INestApplicationContext } from '@nestjs/common';
import { type OpsActor } from '@usageguard/contracts';
import { PrismaRepository } from '@usageguard/database';
import { QueueRepository } from '@usageguard/queue';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';
import { createAccount, deletePrefix, startEnforcer } from './harness';
import { type SmtpSink, startSmtpSink } from './smtp-sink';

const ROOT = path.resolve(__dirname, '../../..');
const OPS: OpsActor = { type: 'OPS_USER', id: null, requestId: null };

/**
 * The real enforcer process (apps/enforcer/src/main.ts) is killed with SIGKILL while it is inside the SMTP
 * transaction — the server has the whole message, the sender has not marked the row — and a fresh process takes
 * over. The email must still arrive exactly once.
 */
describe('sender killed between SMTP and marking (child process, kill -9)', () => {
  let env: TestEnvironment;
  let smtp: SmtpSink;
  let producer: INestApplicationContext;
  const children: ChildProcess[] = [];

  const spawnEnforcer = (): ChildProcess => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/enforcer/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...env.env,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Provider API <noreply@provider.test>',
        ENFORCER_PORT: '0',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    smtp = await startSmtpSink();
    Object.assign(process.env, env.env, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    producer = await startEnforcer([]); // produces jobs only; the children work on them
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await producer?.close();
    if (env) await deletePrefix(env.config.redis.url, env.config.redis.prefix);
    await smtp?.close();
    await env?.cleanup();
  });

  it('delivers the email exactly once and holds the unconfirmed row instead of resending it', async () => {
    const prisma = producer.get(PrismaRepository);
    const queue = producer.get(QueueRepository);
    const { accountId } = await createAccount(prisma);

    const first = spawnEnforcer();
    const exited = new Promise<void>((resolve) => first.once('exit', () => resolve()));
    smtp.onMessage = () => {
      first.kill('SIGKILL'); // the server holds the complete message; the sender never hears back
      return false;
    };
    const applied = (await queue.enqueueAndWait(
      'enforcer',
      'apply-restriction',
      {
        accountId,
        mode: 'block',
        scope: 'account',
        scopeValue: null,
        throttleFactor: null,
        statusCode: 429,
        reasonCode: 'reasonable_use',
        durationSeconds: 600,
        flagId: null,
        actor: OPS,
        reason: 'manual',
      },
      { jobId: `apply-${accountId}`, timeoutMs: 60_000 },
    )) as { restrictionId: string };
    await exited;
    smtp.onMessage = undefined;

    const claimed = await prisma.notification.findFirstOrThrow({ where: { accountId } });
    expect(claimed).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(claimed.messageId).not.toBeNull();
    expect(smtp.byMessageId(claimed.messageId!)).toHaveLength(1);

    // A new process picks the job up once BullMQ sees it stalled, and must not send it again.
    spawnEnforcer();
    const held = await waitFor(
      async () => {
        const n = await prisma.notification.findUniqueOrThrow({ where: { id: claimed.id } });
        return n.status === 'FAILED' ? n : undefined;
      },
      { what: 'the crashed attempt to be resolved', timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(held.lastError).toMatch(/^unconfirmed/);
    expect(held.lastError).toContain(claimed.messageId);
    const audit = await prisma.auditEvent.findFirst({ where: { targetId: claimed.id } });
    expect(audit).toMatchObject({ action: 'notification.unconfirmed', actorType: 'SYSTEM' });

    // The new sender works (so "once" is not "the sender is dead"): the lift email goes out once.
    await queue.enqueueAndWait(
      'enforcer',
      'lift-restriction',
      { restrictionId: applied.restrictionId, actor: OPS, reason: 'done' },
      { jobId: `lift-${applied.restrictionId}`, timeoutMs: 60_000 },
    );
    const lifted = await waitFor(
      async () => {
        const n = await prisma.notification.findFirst({ where: { accountId, kind: 'RESTRICTION_LIFTED' } });
        return n?.status === 'SENT' ? n : undefined;
      },
      { what: 'the lifted email', timeoutMs: 30_000 },
    );
    expect(smtp.byMessageId(lifted.messageId!)).toHaveLength(1);
    expect(smtp.byMessageId(claimed.messageId!)).toHaveLength(1);
    expect(smtp.received).toHaveLength(2);
  }, 240_000);
});
