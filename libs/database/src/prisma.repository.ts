import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { PrismaClient } from './generated/prisma/client';

/**
 * The Prisma client for UsageGuard's Postgres, through the pg driver adapter (no native query engine).
 * Repositories and services receive it by injection; nothing else constructs a PrismaClient.
 */
@Injectable()
export class PrismaRepository extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ adapter: new PrismaPg({ connectionString: config.database.url, max: 10 }) });
  }

  async ping(): Promise<void> {
    await this.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}

/** A client outside Nest (scripts, tests). */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: 5 }) });
}
