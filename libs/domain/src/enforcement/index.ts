export * from './enforcement-config';
export * from './ladder';
