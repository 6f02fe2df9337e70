import { Global, Module, type OnModuleInit, Inject } from '@nestjs/common';
import { ClickHouseRepository } from './clickhouse.repository';

/** Provides the ClickHouse repository and applies pending migrations before any other module starts. */
@Global()
@Module({ providers: [ClickHouseRepository], exports: [ClickHouseRepository] })
export class ClickHouseModule implements OnModuleInit {
  constructor(@Inject(ClickHouseRepository) private readonly clickhouse: ClickHouseRepository) {}

  async onModuleInit(): Promise<void> {
    await this.clickhouse.migrate();
  }
}
