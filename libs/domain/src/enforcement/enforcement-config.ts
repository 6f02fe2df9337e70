import { z } from 'zod';

/**
 * The enforcement ladder of a plan (Plan.enforcementConfig, JSON). Validated here, by the enforcer before it acts
 * and by the dashboard before it saves, so a plan can never hold a ladder the enforcer would refuse.
 */
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

/** Seconds; real ladders use minutes to days, tests and demos use seconds. */
const duration = z
  .number()
  .int()
  .min(1)
  .max(90 * 86_400);
const statusCode = z.union([z.literal(429), z.literal(503)]);

export const rungSchema = z.discriminatedUnion('mode', [
  /** A warning email and nothing at the edge. */
  z.strictObject({ mode: z.literal('notify'), durationSeconds: duration }),
  /** The account keeps this fraction of its plan's limits. */
  z.strictObject({
    mode: z.literal('throttle'),
    throttleFactor: z.number().gt(0).lt(1),
    durationSeconds: duration,
    statusCode: statusCode.optional(),
  }),
  z.strictObject({ mode: z.literal('block'), durationSeconds: duration, statusCode: statusCode.optional() }),
]);
export type Rung = z.infer<typeof rungSchema>;

export const DEFAULT_LADDER: Rung[] = [
  { mode: 'notify', durationSeconds: 86_400 },
  { mode: 'throttle', throttleFactor: 0.5, durationSeconds: 3_600 },
  { mode: 'block', durationSeconds: 3_600 },
  { mode: 'block', durationSeconds: 86_400 },
];

export const enforcementConfigSchema = z
  .strictObject({
    ladder: z.array(rungSchema).min(1).max(10).default(DEFAULT_LADDER),
    /** The rung a first offence of each severity starts on; each earlier offence in the window adds one. */
    startRung: z
      .strictObject({
        LOW: z.number().int().min(0),
        MEDIUM: z.number().int().min(0),
        HIGH: z.number().int().min(0),
        CRITICAL: z.number().int().min(0),
      })
      .default({ LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 2 }),
    /** Flags of this severity or above are enforced without waiting for ops; NEVER: ops approve everything. */
    autoApplyFrom: z.enum([...SEVERITIES, 'NEVER']).default('HIGH'),
    /** Offences older than this are forgiven when choosing the rung. */
    repeatWindowDays: z.number().int().min(1).max(365).default(30),
    /** Machine-readable reason the edge puts in its error body. */
    reasonCode: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/)
      .default('reasonable_use'),
    /** Where customers write to dispute a restriction or announce a planned burst (shown in emails). */
    supportEmail: z.email().optional(),
    /** A page where customers announce a planned burst, if the provider has one. */
    burstNoticeUrl: z.url().optional(),
  })
  .superRefine((config, ctx) => {
    for (const severity of SEVERITIES) {
      if (config.startRung[severity] >= config.ladder.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['startRung', severity],
          message: `must be below the ladder's length (${config.ladder.length})`,
        });
      }
    }
  });

export type EnforcementConfig = z.infer<typeof enforcementConfigSchema>;

export type ParsedEnforcementConfig = { ok: true; config: EnforcementConfig } | { ok: false; reason: string };

/** `{}` (the column's default) gives the default ladder; a bad field comes back named, never silently replaced. */
export function parseEnforcementConfig(json: unknown): ParsedEnforcementConfig {
  const parsed = enforcementConfigSchema.safeParse(json ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; '),
  };
}
