import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type LabelValues, Registry, collectDefaultMetrics } from 'prom-client';

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

  /** A labelled counter for per-request paths (HotCounter); not shared by name like counter(). */
  hotCounter(name: string, help: string, labelNames: string[]): HotCounter {
    return new HotCounter(this.registry, name, help, labelNames);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}

interface Tally {
  labels: LabelValues<string>;
  count: number;
}

/**
 * A labelled counter for per-request paths: an increment adds to a plain number per combination of label values,
 * handed to prom-client when the registry is read (/metrics). prom-client's inc(labels), and its labels() children
 * (which only bind the labels), hash and validate the label set on every call.
 */
export class HotCounter {
  private readonly tallies = new Map<string, Tally>();
  private readonly counter: Counter<string>;

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly labelNames: string[],
  ) {
    this.counter = new Counter({ name, help, labelNames, registers: [registry], collect: () => this.handOver() });
  }

  /** Values in the order of the label names. */
  inc(...values: string[]): void {
    const key = values.join('\0');
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count++;
      return;
    }
    const labels: LabelValues<string> = {};
    this.labelNames.forEach((name, i) => (labels[name] = values[i]));
    this.tallies.set(key, { labels, count: 1 });
  }

  private handOver(): void {
    for (const tally of this.tallies.values()) {
      if (tally.count === 0) continue;
      this.counter.inc(tally.labels, tally.count);
      tally.count = 0;
    }
  }
}
