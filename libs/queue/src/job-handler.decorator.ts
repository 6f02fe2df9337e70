import { SetMetadata } from '@nestjs/common';
import { type JobName, type QueueName } from '@usageguard/contracts';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

export interface JobHandlerMetadata {
  queue: QueueName;
  name: string;
}

/**
 * Marks a provider method as the handler of one job of the catalogue. The method receives the typed payload and
 * the attempt number; throwing lets BullMQ retry with backoff, throwing UnrecoverableJobError discards the job.
 */
export const JobHandler = <Q extends QueueName>(queue: Q, name: JobName<Q>) =>
  SetMetadata(JOB_HANDLER, { queue, name } satisfies JobHandlerMetadata);
