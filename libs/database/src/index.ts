export * from './prisma.repository';
export * from './database.module';
export * from './migrator';
export * from './generated/prisma/client';
