import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus registry; get-or-create helpers so modules can share a metric by name. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'usageguard_' });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return (
      (this.registry.getSingleMetric(name) as Counter<string>) ??
      new Counter({ name, help, labelNames, registers: [this.registry] })
    );
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
    return (
      (this.registry.getSingleMetric(name) as Gauge<string>) ??
      new Gauge({ name, help, labelNames, registers: [this.registry] })
    );
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram<string> {
    return (
      (this.registry.getSingleMetric(name) as Histogram<string>) ??
      new Histogram({ name, help, labelNames, buckets, registers: [this.registry] })
    );
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
