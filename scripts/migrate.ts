import { loadConfig } from '@usageguard/config';
import { migrate } from '@usageguard/database';

/** `npm run db:migrate`: applies pending Postgres migrations (ClickHouse migrations run when the control plane starts). */
async function main(): Promise<void> {
  const config = loadConfig();
  const result = await migrate(config.database.url);
  const where = new URL(config.database.url);
  console.log(
    `[migrate] ${where.host}${where.pathname}: applied ${result.applied.length} (${result.applied.join(', ') || 'none'}), ` +
      `${result.alreadyApplied.length} already applied`,
  );
}

main().catch((error: unknown) => {
  console.error(`[migrate] ${(error as Error).message}`);
  process.exit(1);
});
