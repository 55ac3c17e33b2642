import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { createSink } from '../../../collector/store/create-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';

/**
 * Store poisoning against a real InfluxDB 1.x: a field's type is fixed by its first write in a
 * shard, so a forged number arriving first where the device sends a string (the PDU's load state)
 * would make InfluxDB refuse every real value of that field for the rest of the shard. The forged
 * reading comes first, under the real agent's id with a plausible seq; the real ones follow.
 */
const SEED = loadYamlFile(SiteInventorySchema, path.resolve(import.meta.dirname, '../../../seeds/minimal.yaml'));
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dcim-poison-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('type poisoning against InfluxDB', () => {
  const influx = useService('influxd', () => startInfluxV1());

  it('a forged value of the wrong type never reaches the store; the real strings are all stored', { timeout: 60_000 }, async () => {
    await influx().createDatabase('poison');
    const clock = new ManualClock(T0);
    const logger = memoryLogger();
    const sink = createSink({ kind: 'influx_v1', url: influx().url, database: 'poison', batch_lines: 100, spool: { dir: path.join(tmp, 'spool'), max_bytes: 16 * 1024 * 1024, max_age_h: 1, fsync: 'interval', fsync_interval_ms: 200 } }, { clock, logger });
    const collector = new Collector({ id: 'poison', inventories: [SEED], profiles: loadProfiles(), mqtt: { url: 'mqtt://127.0.0.1:1' }, sink, clock, logger });
    sink.start?.();
    const agent = SEED.site.agent ?? 'edge-1';
    const poll = (seq: number, ts: number, loadState: unknown) =>
      collector.ingest(
        topics.telemetry('demo', agent, 'pdu-r01-a'),
        Buffer.from(JSON.stringify({ schema: 1, agent, site: 'demo', device: 'pdu-r01-a', class: 'pdu', seq, ts, readings: [{ point: 'active_power_w', value: 8000, unit: 'W', quality: 'good' }, { point: 'load_state', value: loadState, quality: 'good' }], poll: { ms: 5, requests: 1, retries: 0 } })),
      );
    poll(1, T0, 3);
    for (let i = 1; i <= 5; i++) poll(1 + i, T0 + i * 5000, i === 3 ? 'near_overload' : 'normal');
    await sink.flush();
    await sink.close();

    const rows = await influx().query('poison', `SELECT load_state, active_power_w FROM pdu WHERE device = 'pdu-r01-a'`);
    const values = rows[0]?.values ?? [];
    // The forged poll's power reading fits the profile and is kept; its load state is not.
    expect(values.map((v) => v[1])).toEqual([null, 'normal', 'normal', 'near_overload', 'normal', 'normal']);
    expect(values.map((v) => v[2])).toEqual([8000, 8000, 8000, 8000, 8000, 8000]);
    const types = await influx().query('poison', 'SHOW FIELD KEYS FROM pdu');
    expect(types[0]?.values).toEqual(expect.arrayContaining([['load_state', 'string']]));
    expect(sink.stats()).toMatchObject({ points_rejected: 0, points_lost: 0 });
    expect(collector.stats().invalid_by_code).toEqual({ DCIM_E_READING_TYPE_MISMATCH: 1 });
  });
});
