import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * `npm run bench -- <name> [options]` runs bench/<name>.bench.ts. Each benchmark prints progress for people on
 * stderr and returns its figures; this runner prints them last, as one JSON line {"bench":"<name>", ...}.
 */
export interface BenchModule {
  run(args: string[]): Promise<Record<string, unknown>>;
}

function available(): string[] {
  return readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.replace(/\.bench\.ts$/, ''))
    .sort();
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const file = name ? path.join(__dirname, `${name}.bench.ts`) : '';
  if (!name || !existsSync(file)) {
    console.error(`usage: npm run bench -- <name>\navailable: ${available().join(', ')}`);
    process.exit(2);
  }
  const bench = (await import(file)) as BenchModule;
  const figures = await bench.run(args);
  console.log(JSON.stringify({ bench: name, ...figures }));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
