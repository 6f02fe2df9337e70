/**
 * Detection and enforcement settings of the demo plans (Plan.detectionConfig / Plan.enforcementConfig; schemas in
 * libs/domain/src/analysis/detection-config.ts and libs/domain/src/enforcement/enforcement-config.ts).
 *
 * The demo compresses time: a sustained-excess window of 5 minutes instead of the default 30, and restrictions
 * of minutes instead of hours, so a newcomer watching `npm start` sees a flag, a restriction, its email, its
 * expiry and the lift email within a quarter of an hour. Kobble restricts with 503, as its policy says (seed 000).
 */
const demoDetection = {
  sustainedExcess: { windowMinutes: 5, openShare: 0.6, closeShare: 0.2, floorPerMinute: 20, minExcessRequests: 200 },
  limitPressure: { minShare: 0.5, minLimitedRatio: 0.05, minRequests: 10 },
  errorStorm: { minRatio: 0.3, multiplier: 5, minAuthFailures: 60 },
  tokenSpread: { minIps: 25, multiplier: 4 },
};

const demoLadder = (statusCode: 429 | 503, supportEmail: string) => ({
  ladder: [
    { mode: 'notify', durationSeconds: 600 },
    { mode: 'throttle', throttleFactor: 0.5, durationSeconds: 300, statusCode },
    { mode: 'block', durationSeconds: 300, statusCode },
    { mode: 'block', durationSeconds: 3_600, statusCode },
  ],
  startRung: { LOW: 0, MEDIUM: 0, HIGH: 2, CRITICAL: 2 },
  autoApplyFrom: 'HIGH',
  repeatWindowDays: 30,
  reasonCode: 'reasonable_use',
  supportEmail,
});

export const DEMO_PLAN_POLICIES: Record<string, { detectionConfig: object; enforcementConfig: object }> = {
  'kobble-reasonable-use': {
    detectionConfig: demoDetection,
    enforcementConfig: demoLadder(503, 'support@kobble.example'),
  },
  'keebai-standard': { detectionConfig: demoDetection, enforcementConfig: demoLadder(429, 'support@keebai.example') },
  'licensing-standard': {
    detectionConfig: demoDetection,
    enforcementConfig: demoLadder(429, 'support@licensing.example'),
  },
  'kinde-standard': { detectionConfig: demoDetection, enforcementConfig: demoLadder(429, 'support@kinde.example') },
  'klinky-growth': { detectionConfig: demoDetection, enforcementConfig: demoLadder(429, 'support@klinky.example') },
  'klinky-scale': { detectionConfig: demoDetection, enforcementConfig: demoLadder(429, 'support@klinky.example') },
};
