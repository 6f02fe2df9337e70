export * from './policy';
export * from './network';
export * from './window-math';
export * from './decision';
export * from './local-budget';
export * from './circuit-breaker';
export * from './responses';
export * from './routes';
