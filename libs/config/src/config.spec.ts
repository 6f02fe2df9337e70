import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives local-stack defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.database.url).toBe('postgresql://postgres@127.0.0.1:5432/usageguard');
    expect(config.clickhouse.url).toBeUndefined();
    expect(config.clickhouse.chdbPath.endsWith('.data/chdb')).toBe(true);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', EDGE_PORT: 'eighty', CLICKHOUSE_DATABASE: 'drop table' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).issues.map((i) => i.variable).sort();
    expect(variables).toEqual(['CLICKHOUSE_DATABASE', 'DATABASE_URL', 'EDGE_PORT']);
    expect((error as ConfigError).message).toContain('EDGE_PORT');
  });

  it('splits broker lists and treats empty strings as unset', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', CLICKHOUSE_URL: '' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.clickhouse.url).toBeUndefined();
  });
});
