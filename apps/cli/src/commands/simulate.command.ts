import { type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@usageguard/config';
import { createPrismaClient } from '@usageguard/database';
import { hashSecret } from '@usageguard/domain';
import { DEMO_INGEST_KEY } from '../../../../prisma/demo-data';
import { backfillHistory } from '../simulator/history';
import { LiveTraffic, type LiveStats, liveRate, type Timeline } from '../simulator/live';
import { type Persona, PERSONAS } from '../simulator/personas';
import { approveBurstNotice, announceBurst } from '../simulator/ops';

interface SimulateOptions {
  edgeUrl?: string;
  controlPlaneUrl?: string;
  historyDays: string;
  duration: string;
  seed: string;
  speed: string;
  history: boolean;
  adminEmail: string;
  adminPassword?: string;
}

/**
 * `usageguard simulate`: the demo's traffic. Backfills weeks of normal history through the ingest API (once; a
 * restart fills only the gap), announces Initech's burst and has ops approve it, then drives the edge live:
 * seasonal normal users, Globex turning abusive, Initech's announced burst, Umbrella living at its plan limit, and
 * credential stuffing with Hooli's leaked token. `--speed N` makes the live timeline N times faster.
 */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('drive the edge with realistic demo traffic (and backfill history for baselines)')
    .option('--edge-url <url>', 'the edge (default: from EDGE_PORT)')
    .option('--control-plane-url <url>', 'ingest and burst-notice API (default: from DASHBOARD_PORT)')
    .option('--history-days <days>', 'days of normal history to backfill', '8')
    .option('--no-history', 'skip the history backfill')
    .option('--duration <seconds>', 'stop after this many seconds (0: run until Ctrl-C)', '0')
    .option('--speed <factor>', 'time compression of the live timeline', '1')
    .option('--seed <n>', 'random seed', '42')
    .option('--admin-email <email>', 'ops user that approves the announced burst', 'admin@usageguard.local')
    .option('--admin-password <password>', 'its password (default: USAGEGUARD_ADMIN_PASSWORD)')
    .action(async (options: SimulateOptions) => {
      const config = loadConfig();
      const edgeUrl = options.edgeUrl ?? `http://${config.http.edge.host}:${config.http.edge.port}`;
      const controlPlaneUrl = options.controlPlaneUrl ?? `http://${config.http.host}:${config.http.ports.dashboard}`;
      const speed = Math.max(0.01, Number(options.speed));
      const seed = Number(options.seed);
      const personas = await resolvePersonas(config.database.url);
      const now = new Date();

      if (options.history) {
        const marker = path.join(config.dataDir, 'simulator-history.json');
        const previous = existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as { until: string }) : null;
        const days = previous
          ? Math.min(Number(options.historyDays), (now.getTime() - Date.parse(previous.until)) / 86_400_000)
          : Number(options.historyDays);
        if (days > 1 / 1440) {
          console.log(
            `backfilling ${days.toFixed(2)} days of normal history through ${controlPlaneUrl}/v1/ingest/logs`,
          );
          const bar = new SingleBar({
            format: '  history [{bar}] {percentage}% | {value}/{total} events | {eta}s left',
          });
          bar.start(1, 0);
          const sent = await backfillHistory(personas, {
            ingestUrl: controlPlaneUrl,
            ingestKey: DEMO_INGEST_KEY,
            days,
            until: now,
            seed,
            batch: 5_000,
            hourlyLimit: (p) => (p.behaviour === 'at-limit' ? 100 : undefined),
            onProgress: (done, total) => {
              bar.setTotal(total);
              bar.update(done);
            },
          });
          bar.stop();
          mkdirSync(path.dirname(marker), { recursive: true });
          writeFileSync(marker, JSON.stringify({ until: now.toISOString(), events: sent }));
          console.log(`  ${sent} history events accepted`);
        }
      }

      const timeline: Timeline = {
        abuseAfterS: 60 / speed,
        burstAfterS: 30 / speed,
        burstForS: 600 / speed,
        stuffingAfterS: 90 / speed,
      };
      const initech = personas.find((p) => p.behaviour === 'announced-burst');
      if (initech) {
        // The envelope the customer announces: its burst rate with 30% headroom.
        const burstPerMinute = Math.ceil(liveRate(initech, now, timeline.burstAfterS, timeline) * 1.3) + 10;
        const notice = await announceBurst(controlPlaneUrl, initech.token, {
          startsAt: new Date(now.getTime() + (timeline.burstAfterS - 30) * 1000),
          minutes: Math.ceil(timeline.burstForS / 60) + 2,
          perMinute: burstPerMinute,
        });
        console.log(
          `Initech announced a burst (${burstPerMinute}/min, notice ${notice.id}${notice.late ? ', late' : ''})`,
        );
        const approved = await approveBurstNotice(
          controlPlaneUrl,
          options.adminEmail,
          options.adminPassword ?? config.bootstrap.adminPassword,
          notice.id,
        );
        console.log(
          approved
            ? '  ops approved it'
            : '  could not approve it through the dashboard API: the burst will be flagged',
        );
      }

      console.log(`live traffic through ${edgeUrl} (Ctrl-C to stop)`);
      const live = new LiveTraffic({
        edgeUrl,
        personas,
        timeline,
        seed,
        durationS: Number(options.duration),
        onTick: (second, stats) => {
          if (second % 10 === 0) console.log(`  t=${second}s ${summary(stats)}`);
        },
      });
      process.once('SIGINT', () => live.stop());
      process.once('SIGTERM', () => live.stop());
      const stats = await live.run();
      console.log(`done: ${summary(stats)}`);
    });
}

async function resolvePersonas(databaseUrl: string): Promise<Persona[]> {
  const prisma = createPrismaClient(databaseUrl);
  try {
    const resolved: Persona[] = [];
    for (const persona of PERSONAS) {
      const token = await prisma.apiToken.findUnique({
        where: { secretHash: hashSecret(persona.token) },
        include: { account: true },
      });
      if (!token) throw new Error(`demo token of ${persona.externalId} not found: run npm run db:seed`);
      resolved.push({ ...persona, accountId: token.accountId, tokenId: token.id });
    }
    return resolved;
  } finally {
    await prisma.$disconnect();
  }
}

function summary(stats: Map<string, LiveStats>): string {
  return [...stats.entries()]
    .map(([name, s]) => {
      const statuses = Object.entries(s.byStatus)
        .sort()
        .map(([code, n]) => `${code}:${n}`)
        .join(' ');
      return `${name} ${s.sent} [${statuses}${s.errors ? ` err:${s.errors}` : ''}]`;
    })
    .join(' | ');
}
