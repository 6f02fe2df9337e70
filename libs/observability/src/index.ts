export * from './domain-error';
export * from './http-exception.filter';
export * from './metrics.service';
export * from './health-probe';
export * from './observability.module';
export * from './bootstrap';
export * from './probes';
