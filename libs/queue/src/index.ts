export * from './job-handler.decorator';
export * from './queue.repository';
export * from './queue.module';
export type { Job } from 'bullmq';
