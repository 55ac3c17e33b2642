import { describe, expect, it } from 'vitest';
import { SpoolConfigSchema } from '../../../agent/config.js';
import { StoreSpoolSchema } from '../../../collector/config.js';
import { MqttClientIdSchema, MqttTlsSchema, tlsDeprecationLines } from '../../../shared/config/connection-schemas.js';

describe('MqttTlsSchema', () => {
  it('keeps the new keys, maps the old ones onto them and lists which old ones were used', () => {
    expect(MqttTlsSchema.parse({ ca_file: 'a', cert_file: 'b', key_file: 'c' })).toEqual({ ca_file: 'a', cert_file: 'b', key_file: 'c', reject_unauthorized: true });
    expect(MqttTlsSchema.parse({ ca: 'a', key_file: 'c', reject_unauthorized: false })).toEqual({ ca_file: 'a', key_file: 'c', reject_unauthorized: false, deprecated_keys: ['ca'] });
  });

  it('refuses both spellings of a key and unknown keys', () => {
    const r = MqttTlsSchema.safeParse({ cert: 'x', cert_file: 'y' });
    expect(r.success).toBe(false);
    expect(r.error?.issues).toEqual([expect.objectContaining({ path: ['cert'], message: 'both cert (deprecated) and cert_file are given: keep cert_file only' })]);
    expect(MqttTlsSchema.safeParse({ ca_path: 'x' }).success).toBe(false);
  });

  it('says which file uses which old key and what to write instead', () => {
    expect(tlsDeprecationLines('/etc/dcim/agent.yaml', 'mqtt.tls', MqttTlsSchema.parse({ key: 'k' }))).toEqual(['/etc/dcim/agent.yaml: mqtt.tls.key is deprecated: write mqtt.tls.key_file (same value)']);
    expect(tlsDeprecationLines('f', 'mqtt.tls', undefined)).toEqual([]);
  });
});

describe('MqttClientIdSchema', () => {
  it.each([['edge1', true], ['dcim-agent-demo:edge1', true], ['a'.repeat(128), true], ['a'.repeat(129), false], ['', false], ['has space', false], ['slash/no', false]])('%s: %s', (id, good) => {
    expect(MqttClientIdSchema.safeParse(id).success).toBe(good);
  });
});

describe('one spool schema', () => {
  it('the agent spool and the store spool share every key they both have, with the same units and checks', () => {
    const common = { max_bytes: 8 * 1024 * 1024, max_age_h: 12, fsync: 'always', fsync_interval_ms: 50, segment_bytes: 1024 * 1024 };
    const agent = SpoolConfigSchema.parse(common);
    const store = StoreSpoolSchema.parse({ dir: 's', ...common });
    for (const k of Object.keys(common)) expect([k, (agent as Record<string, unknown>)[k]]).toEqual([k, (store as Record<string, unknown>)[k]]);
    for (const bad of [{ max_bytes: 1000 }, { max_age_h: 0 }, { fsync: 'sometimes' }, { fsync_interval_ms: 5 }, { max_bytes: 4 * 1024 * 1024, segment_bytes: 2 * 1024 * 1024 }]) {
      expect([bad, SpoolConfigSchema.safeParse(bad).success]).toEqual([bad, false]);
      expect([bad, StoreSpoolSchema.safeParse({ dir: 's', ...bad }).success]).toEqual([bad, false]);
    }
  });

  it('each side keeps its own defaults: the agent 512 MiB and 72 h, the store 1 GiB and 168 h', () => {
    expect(SpoolConfigSchema.parse(undefined)).toMatchObject({ max_bytes: 512 * 1024 * 1024, max_age_h: 72, fsync: 'interval', fsync_interval_ms: 200, replay_rate_per_s: 200, max_in_flight: 32 });
    expect(StoreSpoolSchema.parse({ dir: 's' })).toEqual({ dir: 's', max_bytes: 1024 * 1024 * 1024, max_age_h: 168, fsync: 'interval', fsync_interval_ms: 200 });
  });
});
