import { Global, Module } from '@nestjs/common';
import { KafkaRepository } from './kafka.repository';

@Global()
@Module({ providers: [KafkaRepository], exports: [KafkaRepository] })
export class KafkaModule {}
