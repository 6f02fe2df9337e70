import { z } from 'zod';

/**
 * Detection settings of a plan (Plan.detectionConfig JSON). Every field has a default, so `{}` is a valid
 * configuration and a plan only states what it changes. Rates are requests per minute.
 */
const baselineSchema = z.strictObject({
  /** Trailing weeks of the same hour-of-week that train a slot. */
  weeks: z.number().int().min(1).max(8).default(4),
  /** Trailing days of the same hour on the same kind of day (weekday / weekend) that also train it. */
  days: z.number().int().min(0).max(13).default(6),
  /** Samples at which the account's own data fully replaces the plan's prior. */
  fullSamples: z.number().int().min(1).default(6),
  /** Width of the band: centre + k × spread. */
  k: z.number().positive().default(4),
  /** The spread is at least this fraction of the centre (4 weekly samples can have a MAD of 0). */
  minRelativeSpread: z.number().min(0).default(0.15),
  /** Per-minute rates inside an hour vary: the upper bound is at least this multiple of the slot's typical p90 minute. */
  p90Margin: z.number().min(1).default(1.5),
});

const sustainedSchema = z.strictObject({
  /** Minutes in the recent window each cycle looks at. */
  windowMinutes: z.number().int().min(5).max(240).default(30),
  /** Share of the window's minutes above the band (and the floor) that opens a flag. */
  openShare: z.number().min(0).max(1).default(0.6),
  /** An open flag stays open while the share stays at or above this (hysteresis: no flapping). */
  closeShare: z.number().min(0).max(1).default(0.25),
  /** Minutes under this rate never count as excess, whatever the band says (small accounts). */
  floorPerMinute: z.number().min(0).default(20),
  /** Total requests above the band over the window needed to open a flag. */
  minExcessRequests: z.number().min(0).default(300),
  /** An operation class flags alone only when its excess is at least this share of the account's expected total. */
  minShareOfTotal: z.number().min(0).default(0.5),
});

const limitPressureSchema = z.strictObject({
  /** Share of the window's minutes with limited (429) responses. */
  minShare: z.number().min(0).max(1).default(0.6),
  /** Limited responses as a share of all requests over the window. */
  minLimitedRatio: z.number().min(0).max(1).default(0.05),
  minRequests: z.number().min(0).default(100),
});

const errorStormSchema = z.strictObject({
  /** 401/403 share of requests over the window. */
  minRatio: z.number().min(0).max(1).default(0.3),
  /** ... and this many times the account's normal 401/403 share. */
  multiplier: z.number().min(1).default(5),
  minAuthFailures: z.number().min(0).default(200),
});

const hammeringSchema = z.strictObject({
  /** Sensitive route templates (seed 002: license validation and activation). */
  routes: z.array(z.string().min(1)).default(['POST /v1/licenses/validate', 'POST /v1/licenses/activate']),
  /** Window rate over the route's normal rate. */
  multiplier: z.number().min(1).default(5),
  minPerMinute: z.number().min(0).default(10),
});

const tokenSpreadSchema = z.strictObject({
  /** Distinct client IPs of one token over the window. */
  minIps: z.number().int().min(1).default(25),
  /** ... and this many times the token's normal distinct IPs per hour. */
  multiplier: z.number().min(1).default(4),
});

const burstSchema = z.strictObject({
  /** Headroom over the announced volume before an announced burst counts as exceeded. */
  tolerance: z.number().min(0).default(0.2),
  /** Notice the customer should give (seed 000); later notices are accepted and marked late. */
  noticeHours: z.number().min(0).default(48),
});

export const detectionConfigSchema = z.strictObject({
  baseline: baselineSchema.default(baselineSchema.parse({})),
  sustainedExcess: sustainedSchema.default(sustainedSchema.parse({})),
  limitPressure: limitPressureSchema.default(limitPressureSchema.parse({})),
  errorStorm: errorStormSchema.default(errorStormSchema.parse({})),
  endpointHammering: hammeringSchema.default(hammeringSchema.parse({})),
  tokenSpread: tokenSpreadSchema.default(tokenSpreadSchema.parse({})),
  burst: burstSchema.default(burstSchema.parse({})),
});

export type DetectionConfig = z.infer<typeof detectionConfigSchema>;

/** Plans store partial JSON: this fills the defaults and rejects unknown keys or bad values with a readable message. */
export function parseDetectionConfig(raw: unknown): DetectionConfig {
  const parsed = detectionConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(
      `invalid detection config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export const DEFAULT_DETECTION_CONFIG: DetectionConfig = parseDetectionConfig({});
