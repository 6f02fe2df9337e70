export * from './mail.repository';
export * from './mail.module';
export * from './templates';
