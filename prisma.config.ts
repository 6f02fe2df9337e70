import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Read by the Prisma CLI only (generate; migrate deploy where Prisma's schema engine can be downloaded).
export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/usageguard' },
});
