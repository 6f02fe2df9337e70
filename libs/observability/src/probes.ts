import type { HealthProbe } from './health-probe';

/** Anything with a ping() that throws when the dependency does not answer. */
export interface Pingable {
  ping(): Promise<unknown>;
}

export const probe = (name: string, target: Pingable, timeoutMs = 2000): HealthProbe => ({
  name,
  timeoutMs,
  check: () => target.ping(),
});
