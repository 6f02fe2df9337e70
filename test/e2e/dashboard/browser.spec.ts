import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { issueSecret } from '@usageguard/domain';
import { KafkaRepository } from '@usageguard/kafka';
import { RestrictionStore } from '@usageguard/redis';
import { waitFor } from '@usageguard/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findWebDist } from '../../../apps/dashboard/src/dashboard.http';
import {
  api,
  login,
  PASSWORD,
  startDashboard,
  type DashboardHarness,
} from '../../integration/dashboard/dashboard-harness';
import { seedWorld, type Seeded } from '../../integration/dashboard/fixtures';
import { startEdge, startUpstream, type EdgeProcess, type Upstream } from '../../integration/edge/edge-harness';

const ROOT = path.resolve(__dirname, '../../..');
const SHOTS = path.join(ROOT, 'output', 'dashboard');
const CHROMIUM = '/usr/bin/chromium';

/** The UI is built when dist is missing or older than any of its sources, so the test never drives a stale UI. */
function webNeedsBuild(): boolean {
  const dist = findWebDist();
  if (!dist) return true;
  const built = statSync(path.join(dist, 'index.html')).mtimeMs;
  const web = path.join(ROOT, 'apps', 'dashboard', 'web');
  const sources = [
    ...readdirSync(path.join(web, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => path.join(web, 'src', f)),
    path.join(web, 'index.html'),
    path.join(web, 'vite.config.mts'),
  ];
  return sources.some((file) => statSync(file).mtimeMs > built);
}

/**
 * The operator's path through the real UI in Debian's Chromium: sign in, open the flagged account, see its usage
 * chart, lift its restriction, and see the customer's requests pass the edge again. The dashboard runs with the
 * real enforcer (its queue served in the same process) and a real edge process in front of a stand-in upstream.
 */
describe('ops dashboard in a browser', () => {
  let h: DashboardHarness;
  let world: Seeded;
  let kafka: KafkaRepository;
  let upstream: Upstream;
  let edge: EdgeProcess;
  let browser: Browser;
  let page: Page;
  let secret: string;

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const throughEdge = () =>
    fetch(`${edge.url}/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${secret}` }, body: '{}' });

  beforeAll(async () => {
    if (webNeedsBuild()) execFileSync('npm', ['run', '-s', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    h = await startDashboard({ enforcer: true });
    world = await seedWorld(h.prisma, h.clickhouse);
    const issued = issueSecret('live');
    secret = issued.secret;
    await h.prisma.apiToken.create({
      data: { accountId: world.flagged.id, name: 'e2e', prefix: issued.prefix, secretHash: issued.hash },
    });
    kafka = new KafkaRepository(h.env.config);
    await kafka.ensureTopics();
    upstream = await startUpstream();
    edge = await startEdge({ ...h.env.env, EDGE_UPSTREAM_URL: upstream.url });
    expect((await throughEdge()).status).toBe(200);

    // The restriction an operator approved earlier: applied through the API and the real enforcer.
    const operator = await login(h.url, h.users.OPERATOR.email);
    const applied = await api(h.url, 'POST', `/api/accounts/${world.flagged.id}/restrictions`, operator, {
      mode: 'block',
      scope: 'account',
      statusCode: 429,
      reasonCode: 'sustained_excess',
      durationSeconds: 6 * 3600,
      flagId: world.flagged.flagId,
      reason: 'five times its usual rate for three hours',
    });
    expect(applied.status).toBe(200);
    await waitFor(async () => (await throughEdge()).status === 429, { what: 'the edge to apply the restriction' });
    // A later flag of the same incident, joined to that restriction as the enforcer does (tested there).
    const restriction = await h.prisma.restriction.findFirstOrThrow({
      where: { accountId: world.flagged.id, status: 'ACTIVE' },
    });
    await h.prisma.flag.create({
      data: {
        accountId: world.flagged.id,
        kind: 'TOKEN_SPREAD',
        severity: 'HIGH',
        openKey: `${world.flagged.id}:TOKEN_SPREAD`,
        score: 5,
        summary: 'one token used from 212 addresses in 10 minutes',
        firstSeenAt: new Date(Date.now() - 10 * 60_000),
        lastSeenAt: new Date(),
        evidence: { addresses: 212 },
        restrictionId: restriction.id,
      },
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    await upstream?.close();
    if (kafka) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: kafka.defaultTopics().map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
      await kafka.onModuleDestroy();
    }
    await h?.close();
  });

  it('signs in, opens the flagged account, sees its chart, lifts the restriction; requests pass the edge again', async () => {
    await page.goto(h.url);
    await page.getByLabel('Email').fill(h.users.OPERATOR.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('wrong email or password').waitFor();
    await shot('01-login-error');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('.recharts-area').first().waitFor();
    await shot('02-overview');

    await page.getByRole('link', { name: 'Flagged accounts' }).click();
    await page.getByRole('heading', { name: 'Flagged accounts' }).waitFor();
    const row = page.locator('tbody tr', { hasText: world.flagged.name }).first();
    await row.waitFor();
    await shot('03-flagged-accounts');

    await row.click();
    await page.getByRole('heading', { name: world.flagged.name }).waitFor();
    const chart = page.getByTestId('usage-chart');
    await chart.locator('.recharts-line-curve').waitFor();
    // The usage line and the analyzer's band are both drawn.
    expect(await chart.locator('.recharts-line-curve').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+/);
    expect(await chart.locator('.recharts-area-area').count()).toBeGreaterThan(0);
    await page.getByText('POST /v1/reports').first().waitFor();
    const banner = page.getByTestId('active-restriction');
    await expect(banner.textContent()).resolves.toContain('Blocked');
    // The later flag shows the restriction it joined, and the restriction counts it.
    await expect(page.getByTestId('joined-restriction').textContent()).resolves.toMatch(/Joined the block restriction/);
    await page.getByText('+ 1 later flag joined').waitFor();
    await shot('04-account');

    await banner.getByRole('button', { name: 'Lift restriction' }).click();
    const dialog = page.getByRole('dialog', { name: 'Lift restriction' });
    await dialog.getByLabel('Reason (kept in the audit log)').fill('Customer stopped the runaway report job');
    await shot('05-lift-dialog');
    await dialog.getByRole('button', { name: 'Lift restriction' }).click();
    await page.getByRole('status').getByText('Lift restriction: done.').waitFor();
    await banner.waitFor({ state: 'detached' });
    await shot('06-account-lifted');

    const restriction = await h.prisma.restriction.findFirstOrThrow({ where: { accountId: world.flagged.id } });
    expect(restriction).toMatchObject({ status: 'LIFTED', liftedBy: h.users.OPERATOR.id });
    expect(await h.app.get(RestrictionStore).get(world.flagged.id, 'account', null)).toBeNull();
    await waitFor(async () => (await throughEdge()).status === 200, { what: 'requests to pass the edge again' });
  });

  it('shows burst notices, plans and the audit log with the lift in it', async () => {
    await page.getByRole('link', { name: 'Burst notices' }).click();
    await page.getByText('Quarter-end batch').waitFor();
    await shot('07-burst-notices');

    await page.getByRole('link', { name: 'Plans & limits' }).click();
    await page.getByText('per-token-minute').first().waitFor();
    await shot('08-plans');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('dashboard.lift-restriction').waitFor();
    await shot('09-audit');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // A failed sign-in has no actor yet: it names the user it tried as its target.
    const events = await h.prisma.auditEvent.findMany({
      where: { OR: [{ actorId: h.users.OPERATOR.id }, { targetId: h.users.OPERATOR.id }] },
    });
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['auth.login-failed', 'auth.login', 'dashboard.lift-restriction', 'auth.logout']),
    );
  });

  it('lets an admin edit a limit rule; the plan version moves so edges reload it', async () => {
    await page.getByLabel('Email').fill(h.users.ADMIN.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('link', { name: 'Plans & limits' }).click();
    const rule = page.locator('tbody tr', { hasText: 'per-token-minute' });
    await rule.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('limit', { exact: true }).first().fill('900');
    await shot('10-rule-editor');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('900 / 1 min').waitFor();
    await page.getByText(/· v2/).waitFor();
    const plan = await h.prisma.plan.findUniqueOrThrow({ where: { id: world.planId }, include: { rules: true } });
    expect(plan.version).toBe(2);
    expect(plan.rules.find((r) => r.name === 'per-token-minute')?.windows).toEqual([{ limit: 900, seconds: 60 }]);
  });
});
