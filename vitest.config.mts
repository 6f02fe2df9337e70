import path from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import tsconfig from './tsconfig.json' with { type: 'json' };

// Tests run in UTC whatever the machine says (STYLE.md convention 10).
process.env.TZ = 'UTC';

// The same @usageguard/* aliases as tsconfig.json, so tests import libs exactly as apps do.
const alias = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([name, [target]]) => [
    name,
    path.resolve(import.meta.dirname, target),
  ]),
);

// SWC instead of esbuild: Nest needs emitted decorator metadata to resolve constructor parameters and DTO types.
const plugins = [swc.vite({ module: { type: 'es6' } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    pool: 'forks',
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'output/junit.xml' },
    projects: [
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'prisma/**/*.spec.ts', 'test/architecture/**/*.spec.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/integration/**/*.spec.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Real services on a 2-core machine: two files at a time keeps Kafka and chDB responsive.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.spec.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
