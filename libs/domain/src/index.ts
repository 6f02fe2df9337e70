export * from './tokens';
export * from './analysis';
export * from './enforcement';
export * from './limiter';
