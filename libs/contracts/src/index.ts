export * from './request-log-event';
export * from './request-log-codec';
export * from './restriction-record';
export * from './topics';
export * from './queues';
export * from './backtest-report';
