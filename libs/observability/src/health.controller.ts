import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { HEALTH_PROBES, type HealthProbe } from './health-probe';

/** GET /health: every dependency of this process answers within its timeout, or 503 naming the ones that do not. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HEALTH_PROBES) private readonly probes: HealthProbe[],
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check(this.probes.map((probe) => () => runProbe(probe)));
  }
}

async function runProbe(probe: HealthProbe): Promise<HealthIndicatorResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${probe.timeoutMs ?? 2000} ms`)),
          probe.timeoutMs ?? 2000,
        );
      }),
    ]);
    return { [probe.name]: { status: 'up', ms: Date.now() - started } };
  } catch (error) {
    return { [probe.name]: { status: 'down', message: (error as Error).message } };
  } finally {
    clearTimeout(timer);
  }
}
