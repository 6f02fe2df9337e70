export * from './redis.repository';
export * from './redis.module';
export type { Redis } from 'ioredis';
export * from './restriction-store';
export * from './limiter-script.repository';
export * from './restriction-reader.repository';
export * from './pipelined-connection';
