export const HEALTH_PROBES = Symbol('HEALTH_PROBES');

/** One dependency checked by GET /health. */
export interface HealthProbe {
  name: string;
  check(): Promise<unknown>;
  timeoutMs?: number;
}
