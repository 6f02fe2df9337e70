export * from './request-log-event';
export * from './restriction-record';
export * from './topics';
export * from './queues';
export * from './backtest-report';
