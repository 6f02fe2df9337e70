export * from './detection-config';
export * from './seasonality';
export * from './baseline';
export * from './burst-envelope';
export * from './rules';
export * from './flag-lifecycle';
export * from './sharding';
export * from './zoned-time';
