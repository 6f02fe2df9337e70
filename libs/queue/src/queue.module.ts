import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { QUEUE_OPTIONS, type QueueModuleOptions, QueueRepository } from './queue.repository';

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
      providers: [{ provide: QUEUE_OPTIONS, useValue: options }, QueueRepository],
      exports: [QueueRepository],
    };
  }
}
