export * from './limiter.module';
export * from './limiter.service';
export * from './limiter.guard';
