export * from './test-env';
export * from './wait';
export * from './tcp-proxy';
