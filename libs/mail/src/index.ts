export * from './mail.repository';
export * from './mail.module';
