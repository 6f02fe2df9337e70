import './kafkajs-crc32c';
import './kafkajs-encoder';
export * from './kafka.repository';
export * from './kafka.module';
export type { Consumer, EachBatchPayload, KafkaMessage, Producer, RecordMetadata } from 'kafkajs';
export * from './request-log.producer';
