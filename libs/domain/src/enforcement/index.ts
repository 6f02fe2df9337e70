export * from './enforcement-config';
export * from './in-force';
export * from './ladder';
