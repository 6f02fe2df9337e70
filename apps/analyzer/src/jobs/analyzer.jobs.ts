import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { type JobPayload, QUEUES } from '@usageguard/contracts';
import { startOfMinute } from '@usageguard/domain';
import { JobHandler, QueueRepository } from '@usageguard/queue';
import { AnalyzerService, type AnalyzeResult } from '../services/analyzer.service';

export const shardJobId = (windowEnd: string, shard: number, shards: number): string =>
  `analyze-${windowEnd.replace(/[:.]/g, '')}-${shard}of${shards}`;

/**
 * Scheduling: a repeatable analyze-cycle fans out one analyze-shard job per shard for the minute that just closed.
 * Shard job ids are deterministic (window × shard), so a duplicated trigger or a second scheduler instance does
 * not analyze the same accounts twice; several analyzer workers split the shards between them.
 */
@Injectable()
export class AnalyzerJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(AnalyzerJobs.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(QueueRepository) private readonly queue: QueueRepository,
    @Inject(AnalyzerService) private readonly analyzer: AnalyzerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.analyzer.schedule) return;
    await this.queue.schedule(QUEUES.analyzer, 'analyze-cycle', {}, this.config.analyzer.intervalSeconds * 1000);
  }

  @JobHandler(QUEUES.analyzer, 'analyze-cycle')
  async cycle(payload: JobPayload<'analyzer', 'analyze-cycle'>): Promise<{ windowEnd: string; shards: number }> {
    const windowEnd = new Date(startOfMinute(payload.windowEnd ? Date.parse(payload.windowEnd) : Date.now()));
    const shards = this.config.analyzer.shards;
    const iso = windowEnd.toISOString();
    for (let shard = 0; shard < shards; shard++) {
      await this.queue.enqueue(
        QUEUES.analyzer,
        'analyze-shard',
        { shard, shards, windowEnd: iso },
        { jobId: shardJobId(iso, shard, shards), attempts: 5 },
      );
    }
    return { windowEnd: iso, shards };
  }

  @JobHandler(QUEUES.analyzer, 'analyze-shard')
  async shard(payload: JobPayload<'analyzer', 'analyze-shard'>): Promise<Omit<AnalyzeResult, 'findings'>> {
    const result = await this.analyzer.analyze({
      windowEnd: new Date(payload.windowEnd),
      shard: payload.shard,
      shards: payload.shards,
    });
    const { findings: _findings, ...summary } = result;
    if (result.counts.open + result.counts.escalate + result.counts.resolve > 0) {
      this.logger.log(
        `shard ${payload.shard}/${payload.shards} @${payload.windowEnd}: ${result.accounts} accounts, ` +
          `opened ${result.counts.open}, escalated ${result.counts.escalate}, resolved ${result.counts.resolve}`,
      );
    }
    return summary;
  }
}
