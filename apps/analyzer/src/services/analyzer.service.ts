import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AccountBaselineRow } from '@usageguard/clickhouse';
import { type FlagKind, PrismaRepository } from '@usageguard/database';
import {
  type Band,
  type BandedMinute,
  type BurstNoticeView,
  type DetectionConfig,
  type Finding,
  type FlagAction,
  type HourSample,
  type OpenFlagView,
  type SeverityLevel,
  type TimeRange,
  HOUR_MS,
  MINUTE_MS,
  SEVERITY_RANK,
  computeBand,
  decideFlag,
  endpointHammering,
  envelopeAt,
  errorStorm,
  hourOfWeek,
  limitPressure,
  noticesOverlapping,
  parseDetectionConfig,
  sampleHours,
  shardOf,
  startOfHour,
  startOfMinute,
  sustainedExcess,
  tokenSpread,
} from '@usageguard/domain';
import { type Evidence, FlagWriterService } from './flag-writer.service';
import { ALL_OPERATIONS, type HourPoint, type MinutePoint, UsageReaderService, chTime } from './usage-reader.service';

/** Training never reaches further back than this (weeks ≤ 8 in the config schema). */
const MAX_HISTORY_MS = 8 * 7 * 24 * HOUR_MS;
/** A flag ops dismissed keeps the same kind quiet this long, unless the finding is more severe. */
const DISMISSAL_QUIET_MS = 24 * HOUR_MS;
/** Token spread compares against the token's trailing week. */
const TOKEN_HISTORY_DAYS = 7;

export interface AnalyzeRequest {
  /** Exclusive end of the analyzed window (rounded down to the minute). */
  windowEnd: Date;
  shard: number;
  shards: number;
  /** Backtest: evaluate and report without writing flags or baselines. */
  dryRun?: boolean;
  /** Backtest: judge every plan with this rule set instead of its own. */
  configOverride?: DetectionConfig;
  /** Backtest: flags as the rule set under test left them (dry runs keep their own lifecycle state). */
  openFlags?: Map<string, OpenFlagView>;
}

export interface AccountFinding {
  accountId: string;
  kind: FlagKind;
  finding: Finding;
  action: FlagAction['action'];
  evidence: Evidence;
}

export interface AnalyzeResult {
  windowEnd: string;
  shard: number;
  accounts: number;
  findings: AccountFinding[];
  counts: Record<FlagAction['action'] | 'suppressed', number>;
  baselines: number;
}

interface AccountContext {
  id: string;
  createdAt: number;
  config: DetectionConfig;
  prior: number;
}

const routePath = (route: string): string => route.slice(route.indexOf(' ') + 1);
/** Series keys of sensitive routes, beside operation classes and '*'. */
const ROUTE = 'route:';

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * One analysis of one shard of accounts at one instant: read the recent window and the training hours from
 * ClickHouse, compute each account's seasonal bands, run the plan's rules, and write flags (and the bands, for the
 * dashboard). Every account is read in a handful of set-based queries; the per-account work is arithmetic.
 */
@Injectable()
export class AnalyzerService {
  private readonly logger = new Logger(AnalyzerService.name);

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(UsageReaderService) private readonly usage: UsageReaderService,
    @Inject(FlagWriterService) private readonly flags: FlagWriterService,
  ) {}

  async analyze(request: AnalyzeRequest): Promise<AnalyzeResult> {
    const windowEnd = startOfMinute(request.windowEnd);
    const accounts = await this.loadAccounts(request);
    const counts: AnalyzeResult['counts'] = { open: 0, escalate: 0, update: 0, resolve: 0, none: 0, suppressed: 0 };
    const result: AnalyzeResult = {
      windowEnd: new Date(windowEnd).toISOString(),
      shard: request.shard,
      accounts: accounts.length,
      findings: [],
      counts,
      baselines: 0,
    };
    if (accounts.length === 0) return result;
    const ids = accounts.map((a) => a.id);

    const maxWindow = Math.max(...accounts.map((a) => a.config.sustainedExcess.windowMinutes)) * MINUTE_MS;
    const from = windowEnd - maxWindow;
    const windowHours = hoursBetween(from, windowEnd);
    const maxWeeks = Math.max(...accounts.map((a) => a.config.baseline.weeks));
    const maxDays = Math.max(...accounts.map((a) => a.config.baseline.days));
    const trainingHours = [
      ...new Set(windowHours.flatMap((h) => sampleHours(h, maxWeeks, maxDays).map((s) => s.hour))),
    ].sort((a, b) => a - b);
    const sensitive = [...new Set(accounts.flatMap((a) => a.config.endpointHammering.routes.map(routePath)))];
    const minTokenIps = Math.min(...accounts.map((a) => Math.ceil(a.config.tokenSpread.minIps / 2)));

    // Training reads closed hours from usage_1h; hours nobody compacted yet (first run, missed cycles) are compacted
    // now, so a gap in the schedule never turns into zero-traffic samples.
    const routeFrom = startOfHour(from) - TOKEN_HISTORY_DAYS * 24 * HOUR_MS;
    const needed = [...trainingHours, ...hoursBetween(routeFrom, startOfHour(from))].filter(
      (h) => h + HOUR_MS <= windowEnd,
    );
    const missing = await this.usage.uncompactedHours([...new Set(needed)]);
    if (missing.length > 0) await this.usage.compactHours(missing);

    const [minutes, samples, tokenIps, notices, restrictions, flags] = await Promise.all([
      this.usage.recentUsage(ids, sensitive, from, windowEnd),
      this.usage.trainingUsage(ids, trainingHours, sensitive, routeFrom, startOfHour(from)),
      this.usage.tokenIps(ids, from, windowEnd, minTokenIps),
      this.loadNotices(ids, windowEnd),
      this.loadRestrictions(ids, windowEnd),
      request.openFlags ? Promise.resolve(null) : this.loadFlags(ids, windowEnd),
    ]);
    const tokenNormals = await this.usage.tokenNormalIps(
      tokenIps.map((t) => ({ accountId: t.accountId, tokenId: t.tokenId })),
      from,
      TOKEN_HISTORY_DAYS,
    );
    const open = request.openFlags ?? flags?.open ?? new Map<string, OpenFlagView>();
    const dismissed = flags?.dismissed ?? new Map<string, SeverityLevel>();

    const baselineRows: AccountBaselineRow[] = [];
    const pending: { accountId: string; kind: FlagKind; action: FlagAction; evidence: Evidence }[] = [];
    const computedAt = chTime(Date.now());
    for (const account of accounts) {
      const cfg = account.config;
      const windowFrom = windowEnd - cfg.sustainedExcess.windowMinutes * MINUTE_MS;
      const accountNotices = notices.get(account.id) ?? [];
      const exclusions: TimeRange[] = [
        ...accountNotices.filter((n) => n.status === 'APPROVED').map((n) => ({ start: n.startsAt, end: n.endsAt })),
        ...(restrictions.get(account.id) ?? []),
      ];
      const bySeries = minutes.get(account.id) ?? new Map<string, MinutePoint[]>();
      const bySamples = samples.get(account.id) ?? new Map<string, HourPoint[]>();
      const ops = new Set([ALL_OPERATIONS, ...[...bySeries.keys()].filter((k) => !k.startsWith(ROUTE))]);
      const isOpen = (kind: FlagKind) => open.has(`${account.id}:${kind}`);

      // Sustained excess: the account's total and each operation class, each against its own band.
      let best: { finding: Finding; op: string; series: BandedMinute[]; band: Band } | null = null;
      let expectedTotal = 0;
      for (const op of ops) {
        const points = new Map((bySeries.get(op) ?? []).map((p) => [p.minute, p]));
        const hourPoints = new Map((bySamples.get(op) ?? []).map((p) => [p.hour, p]));
        const bands = new Map<number, Band>();
        for (const hour of hoursBetween(windowFrom, windowEnd)) {
          const band = computeBand({
            samples: sampleHours(hour, cfg.baseline.weeks, cfg.baseline.days).map(
              (s): HourSample => hourPoints.get(s.hour) ?? { hour: s.hour, perMinute: 0, p90PerMinute: 0 },
            ),
            since: account.createdAt,
            exclusions,
            prior: account.prior,
            config: cfg.baseline,
          });
          bands.set(hour, band);
          baselineRows.push({
            hour: chTime(hour),
            account_id: account.id,
            operation: op,
            slot: hourOfWeek(hour),
            centre: band.centre,
            spread: band.spread,
            lower: band.lower,
            upper: band.upper,
            samples: band.samples,
            prior_weight: band.priorWeight,
            computed_at: computedAt,
          } as AccountBaselineRow);
        }
        const series: BandedMinute[] = [];
        for (let m = windowFrom; m < windowEnd; m += MINUTE_MS) {
          const band = bands.get(startOfHour(m))!;
          series.push({
            minute: m,
            requests: points.get(m)?.requests ?? 0,
            centre: band.centre,
            upper: band.upper,
            envelope: envelopeAt(m, accountNotices, cfg.burst.tolerance)?.perMinute ?? null,
          });
        }
        const finding = sustainedExcess(series, cfg.sustainedExcess, isOpen('SUSTAINED_EXCESS'));
        if (op === ALL_OPERATIONS) expectedTotal = series.reduce((sum, m) => sum + m.centre, 0);
        // An operation class flags on its own only when its excess is a real part of the account's usage: a class
        // the customer starts using beside a normal total is a change of habit, not sustained excess.
        const significant =
          op === ALL_OPERATIONS ||
          Number(finding?.details.excessRequests ?? 0) >= cfg.sustainedExcess.minShareOfTotal * expectedTotal;
        // The account's total speaks first; an operation class only when the total looks normal.
        if (
          finding &&
          significant &&
          (!best || (best.op !== ALL_OPERATIONS && (op === ALL_OPERATIONS || finding.score > best.finding.score)))
        ) {
          best = { finding, op, series, band: bands.get(startOfHour(windowEnd - MINUTE_MS))! };
        }
      }

      const total = (bySeries.get(ALL_OPERATIONS) ?? []).filter((p) => p.minute >= windowFrom);
      const zeroFilled = fill(windowFrom, windowEnd, total);
      const findings: { kind: FlagKind; finding: Finding | null; extra: Evidence }[] = [];
      findings.push({
        kind: 'SUSTAINED_EXCESS',
        finding: best ? { ...best.finding, details: { ...best.finding.details, operation: best.op } } : null,
        extra: best
          ? {
              series: best.series.map((m) => ({
                t: new Date(m.minute).toISOString(),
                requests: m.requests,
                centre: round(m.centre),
                upper: round(m.upper),
                envelope: m.envelope,
              })),
              band: { ...roundBand(best.band), operation: best.op, slot: hourOfWeek(windowEnd - MINUTE_MS) },
            }
          : {},
      });
      findings.push({
        kind: 'LIMIT_PRESSURE',
        finding: limitPressure(zeroFilled, cfg.limitPressure, isOpen('LIMIT_PRESSURE')),
        extra: {},
      });
      const totalSamples = (bySamples.get(ALL_OPERATIONS) ?? []).filter(
        (s) => s.hour >= account.createdAt && !exclusions.some((r) => r.start < s.hour + HOUR_MS && r.end > s.hour),
      );
      const trainedRequests = totalSamples.reduce((s, p) => s + p.requests, 0);
      findings.push({
        kind: 'ERROR_STORM',
        finding: errorStorm(
          {
            requests: total.reduce((s, p) => s + p.requests, 0),
            authFailures: total.reduce((s, p) => s + p.authFailures, 0),
            normalRatio:
              trainedRequests > 0 ? totalSamples.reduce((s, p) => s + p.authFailures, 0) / trainedRequests : 0,
          },
          cfg.errorStorm,
          isOpen('ERROR_STORM'),
        ),
        extra: {},
      });
      findings.push({
        kind: 'ENDPOINT_HAMMERING',
        finding: endpointHammering(
          cfg.endpointHammering.routes.map((route) => {
            const path = routePath(route);
            const byMinute = new Map((bySeries.get(ROUTE + path) ?? []).map((p) => [p.minute, p.requests]));
            const perMinute: number[] = [];
            for (let m = windowFrom; m < windowEnd; m += MINUTE_MS) perMinute.push(byMinute.get(m) ?? 0);
            return {
              route,
              perMinute,
              normalPerMinute: quantile(
                (bySamples.get(ROUTE + path) ?? []).map((h) => h.perMinute),
                0.9,
              ),
              envelope: envelopeAt(windowEnd - MINUTE_MS, accountNotices, cfg.burst.tolerance, path)?.perMinute ?? null,
            };
          }),
          cfg.endpointHammering,
          cfg.sustainedExcess,
          isOpen('ENDPOINT_HAMMERING'),
        ),
        extra: {},
      });
      findings.push({
        kind: 'TOKEN_SPREAD',
        finding: tokenSpread(
          tokenIps
            .filter((t) => t.accountId === account.id)
            .map((t) => ({
              tokenId: t.tokenId,
              ips: t.ips,
              normalIps: tokenNormals.get(`${account.id}:${t.tokenId}`) ?? 0,
            })),
          cfg.tokenSpread,
          isOpen('TOKEN_SPREAD'),
        ),
        extra: {},
      });

      for (const { kind, finding, extra } of findings) {
        const current = open.get(`${account.id}:${kind}`) ?? null;
        if (!current && finding) {
          const quietAt = dismissed.get(`${account.id}:${kind}`);
          if (quietAt && SEVERITY_RANK[finding.severity] <= SEVERITY_RANK[quietAt]) {
            counts.suppressed++;
            continue;
          }
        }
        const action = decideFlag(current, finding);
        counts[action.action]++;
        if (action.action === 'none') continue;
        if (request.openFlags) applyToState(request.openFlags, account.id, kind, action);
        if (action.action === 'resolve') {
          pending.push({ accountId: account.id, kind, action, evidence: {} });
          continue;
        }
        const relevant = noticesOverlapping(accountNotices, windowFrom, windowEnd);
        const evidence: Evidence = {
          kind,
          rule: action.finding.details,
          summary: action.finding.summary,
          window: { from: new Date(windowFrom).toISOString(), to: new Date(windowEnd).toISOString() },
          ...extra,
          burstNotices: relevant.map((n) => ({
            id: n.id,
            status: n.status,
            startsAt: new Date(n.startsAt).toISOString(),
            endsAt: new Date(n.endsAt).toISOString(),
            expectedPerMinute: n.expectedPerMinute,
            expectedPerHour: n.expectedPerHour,
            endpoints: n.endpoints,
            late: n.late,
          })),
        };
        pending.push({ accountId: account.id, kind, action, evidence });
        result.findings.push({ accountId: account.id, kind, finding: action.finding, action: action.action, evidence });
      }
    }

    if (!request.dryRun) {
      const at = new Date(windowEnd);
      const fresh = pending.filter((p) => p.action.action === 'open' || p.action.action === 'escalate');
      const maxWindowFrom = windowEnd - maxWindow;
      const top = await this.usage.topLists([...new Set(fresh.map((p) => p.accountId))], maxWindowFrom, windowEnd);
      for (const item of fresh) item.evidence.top = top.get(item.accountId) ?? { routes: [], tokens: [], ips: [] };
      for (const item of pending) {
        await this.flags.apply(item.accountId, item.kind, item.action, item.evidence, at);
      }
      await this.usage.writeBaselines(baselineRows);
      result.baselines = baselineRows.length;
    }
    return result;
  }

  private async loadAccounts(request: AnalyzeRequest): Promise<AccountContext[]> {
    const rows = await this.prisma.account.findMany({
      where: { status: 'ACTIVE', plan: { apiAccess: true } },
      select: {
        id: true,
        createdAt: true,
        plan: { select: { id: true, detectionConfig: true, priorPerMinute: true } },
      },
    });
    const configs = new Map<string, DetectionConfig>();
    const out: AccountContext[] = [];
    for (const row of rows) {
      if (shardOf(row.id, request.shards) !== request.shard) continue;
      let config = request.configOverride ?? configs.get(row.plan.id);
      if (!config) {
        try {
          config = parseDetectionConfig(row.plan.detectionConfig);
        } catch (error) {
          // One plan's broken settings must not blind the analyzer to every other plan's accounts.
          this.logger.error(`plan ${row.plan.id}: ${(error as Error).message}; using defaults`);
          config = parseDetectionConfig({});
        }
        configs.set(row.plan.id, config);
      }
      out.push({ id: row.id, createdAt: row.createdAt.getTime(), config, prior: row.plan.priorPerMinute });
    }
    return out;
  }

  private async loadNotices(ids: string[], windowEnd: number): Promise<Map<string, BurstNoticeView[]>> {
    const rows = await this.prisma.burstNotice.findMany({
      where: {
        accountId: { in: ids },
        status: { in: ['APPROVED', 'PENDING'] },
        endsAt: { gt: new Date(windowEnd - MAX_HISTORY_MS) },
        startsAt: { lt: new Date(windowEnd) },
      },
    });
    const out = new Map<string, BurstNoticeView[]>();
    for (const n of rows) {
      const list = out.get(n.accountId) ?? [];
      list.push({
        id: n.id,
        status: n.status,
        startsAt: n.startsAt.getTime(),
        endsAt: n.endsAt.getTime(),
        expectedPerMinute: n.expectedPerMinute,
        expectedPerHour: n.expectedPerHour,
        endpoints: n.endpoints.map(routePath),
        late: n.late,
      });
      out.set(n.accountId, list);
    }
    return out;
  }

  /** Periods the account was restricted: its traffic then was shaped by us, not by its own habits. */
  private async loadRestrictions(ids: string[], windowEnd: number): Promise<Map<string, TimeRange[]>> {
    const rows = await this.prisma.restriction.findMany({
      where: {
        accountId: { in: ids },
        status: { in: ['ACTIVE', 'EXPIRED', 'LIFTED'] },
        startsAt: { lt: new Date(windowEnd) },
        expiresAt: { gt: new Date(windowEnd - MAX_HISTORY_MS) },
      },
      select: { accountId: true, startsAt: true, expiresAt: true, liftedAt: true },
    });
    const out = new Map<string, TimeRange[]>();
    for (const r of rows) {
      const list = out.get(r.accountId) ?? [];
      list.push({ start: r.startsAt.getTime(), end: (r.liftedAt ?? r.expiresAt).getTime() });
      out.set(r.accountId, list);
    }
    return out;
  }

  private async loadFlags(
    ids: string[],
    windowEnd: number,
  ): Promise<{ open: Map<string, OpenFlagView>; dismissed: Map<string, SeverityLevel> }> {
    const rows = await this.prisma.flag.findMany({
      where: {
        accountId: { in: ids },
        OR: [{ status: 'OPEN' }, { status: 'DISMISSED', updatedAt: { gt: new Date(windowEnd - DISMISSAL_QUIET_MS) } }],
      },
      select: { id: true, accountId: true, kind: true, severity: true, status: true, version: true },
    });
    const open = new Map<string, OpenFlagView>();
    const dismissed = new Map<string, SeverityLevel>();
    for (const f of rows) {
      const key = `${f.accountId}:${f.kind}`;
      if (f.status === 'OPEN') open.set(key, { id: f.id, severity: f.severity, version: f.version });
      else if (!dismissed.has(key) || SEVERITY_RANK[f.severity] > SEVERITY_RANK[dismissed.get(key)!]) {
        dismissed.set(key, f.severity);
      }
    }
    return { open, dismissed };
  }
}

function applyToState(state: Map<string, OpenFlagView>, accountId: string, kind: FlagKind, action: FlagAction): void {
  const key = `${accountId}:${kind}`;
  if (action.action === 'open') state.set(key, { id: key, severity: action.finding.severity, version: 1 });
  else if (action.action === 'escalate') {
    const current = state.get(key)!;
    state.set(key, { ...current, severity: action.finding.severity, version: current.version + 1 });
  } else if (action.action === 'resolve') state.delete(key);
}

function hoursBetween(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = startOfHour(from); h < to; h += HOUR_MS) hours.push(h);
  return hours;
}

function fill(from: number, to: number, points: MinutePoint[]): MinutePoint[] {
  const byMinute = new Map(points.map((p) => [p.minute, p]));
  const out: MinutePoint[] = [];
  for (let m = from; m < to; m += MINUTE_MS) {
    out.push(byMinute.get(m) ?? { minute: m, requests: 0, limited: 0, authFailures: 0 });
  }
  return out;
}

const round = (n: number) => Math.round(n * 100) / 100;
const roundBand = (b: Band) => ({
  centre: round(b.centre),
  spread: round(b.spread),
  lower: round(b.lower),
  upper: round(b.upper),
  samples: b.samples,
  priorWeight: round(b.priorWeight),
});
