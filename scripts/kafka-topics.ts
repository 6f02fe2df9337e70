import { loadConfig } from '@usageguard/config';
import { KafkaRepository } from '@usageguard/kafka';

/** Creates UsageGuard's Kafka topics through the admin API (auto-create is off). Idempotent. */
async function main(): Promise<void> {
  const kafka = new KafkaRepository(loadConfig());
  const created = await kafka.ensureTopics();
  console.log(`[stack] kafka topics: ${created.length > 0 ? `created ${created.join(', ')}` : 'all present'}`);
  await kafka.onModuleDestroy();
}

main().catch((error: unknown) => {
  console.error(`[stack] kafka topics: ${(error as Error).message}`);
  process.exit(1);
});
