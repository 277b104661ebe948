import { z } from 'zod';
import { baseConfigSchema, ConfigError, envInt, loadConfig } from './config';

describe(loadConfig.name, () => {
  const schema = baseConfigSchema.extend({ PORT: envInt(3001, 1, 65535), SECRET_KEY: z.string().min(8) });

  it('applies defaults and parses lists', () => {
    const cfg = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', SECRET_KEY: 'abcdefghij' });
    expect(cfg.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(cfg.PORT).toBe(3001);
    expect(cfg.CLICKHOUSE_DATABASE).toBe('portrait');
  });

  it('names the variable and never prints the value', () => {
    let err: unknown;
    try {
      loadConfig(schema, { PORT: '99999', SECRET_KEY: 'short-secret-value'.slice(0, 4) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('SECRET_KEY');
    expect(msg).not.toContain('shor');
  });

  it('treats empty strings as unset', () => {
    const cfg = loadConfig(schema, { PORT: '', SECRET_KEY: '12345678' });
    expect(cfg.PORT).toBe(3001);
  });
});
