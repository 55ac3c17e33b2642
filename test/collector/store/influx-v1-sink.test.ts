import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV1Sink } from '../../../collector/store/influx-v1-sink.js';
import { int, type MetricPoint } from '../../../collector/store/metric-point.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0, 123);
const point = (i: number, over: Partial<MetricPoint> = {}): MetricPoint => ({
  measurement: 'pdu',
  tags: { site: 'demo', device: `pdu-${i}`, hall: 'h1', role: 'it', level: 'pdu_out' },
  fields: { active_power_w: 1000 + i + 0.5 },
  ts_ms: T0 + i,
  ...over,
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dcim-v1-sink-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('InfluxV1Sink against influxd 1.x', () => {
  const influx = useService('influxd', () => startInfluxV1());
  let dbn = 0;
  const freshDb = async () => {
    const db = `dcim_${++dbn}`;
    await influx().createDatabase(db);
    return db;
  };

  it('writes every field type and escaped names, read back with InfluxQL at ms precision', async () => {
    const db = await freshDb();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, logger: memoryLogger() });
    sink.write([
      point(1, { fields: { active_power_w: 1140.5, outlets_count: int(24), load_state: 'say "hi" \\o/', on: true } }),
      point(2, { tags: { site: 'demo', device: 'odd name,with=chars' }, fields: { active_power_w: 7 } }),
    ]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_queued: 2, points_written: 2, batches_written: 1, pending: 0, points_rejected: 0 });

    const [s] = await influx().query(db, `SELECT active_power_w, outlets_count, load_state, "on" FROM pdu WHERE device = 'pdu-1'`);
    expect(s!.values).toEqual([[T0 + 1, 1140.5, 24, 'say "hi" \\o/', true]]);
    const odd = await influx().query(db, `SELECT active_power_w FROM pdu WHERE device = 'odd name,with=chars'`);
    expect(odd[0]!.values).toEqual([[T0 + 2, 7]]);
    const types = await influx().query(db, 'SHOW FIELD KEYS FROM pdu');
    expect(Object.fromEntries(types[0]!.values.map(([k, t]) => [k, t]))).toEqual({ active_power_w: 'float', load_state: 'string', on: 'boolean', outlets_count: 'integer' });
    await sink.close();
  });

  it('batches by line count and writes them all', async () => {
    const db = await freshDb();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, batch_lines: 3, logger: memoryLogger() });
    sink.write(Array.from({ length: 10 }, (_, i) => point(i)));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 10, batches_written: 4, pending: 0 });
    const [s] = await influx().query(db, 'SELECT count(active_power_w) FROM pdu');
    expect(s!.values[0]![1]).toBe(10);
    await sink.close();
  });

  it('drops NaN fields and invalid points with counters; the rest is written', async () => {
    const db = await freshDb();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, logger: memoryLogger() });
    sink.write([point(1, { fields: { active_power_w: NaN, energy_kwh: 5 } }), point(2, { tags: { site: 'x\ny' } }), point(3)]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_invalid: 1, fields_dropped: 1, points_written: 2 });
    await sink.close();
  });

  it('quarantines a batch influxd refuses (field type conflict) with a counter and a file', async () => {
    const db = await freshDb();
    const qdir = path.join(tmp, 'quarantine-v1');
    const logger = memoryLogger();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, quarantine_dir: qdir, logger });
    sink.write([point(1)]);
    await sink.flush();
    sink.write([point(2, { fields: { active_power_w: 'not a number' } })]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 1, points_rejected: 1, pending: 0 });
    const files = await readdir(qdir);
    expect(files).toHaveLength(1);
    expect(await readFile(path.join(qdir, files[0]!), 'utf8')).toContain('active_power_w="not a number"');
    expect(logger.lines.find((l) => l.code === 'DCIM_E_STORE_REJECTED')).toMatchObject({ status: 400 });
    await sink.close();
  });

  // A missing database is not the batch's fault and is kept (influx-v1-transport.test.ts); a
  // batch influxd refuses for what is in it is quarantined, and the next good one is written.
  it('quarantines a batch influxd refuses for its content (a field type conflict), then writes the next', async () => {
    const db = await freshDb();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, logger: memoryLogger() });
    sink.write([point(1)]);
    await sink.flush();
    sink.write([point(2, { fields: { active_power_w: 'not a number' } })]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 1, points_rejected: 1, pending: 0 });
    expect(sink.health()).toMatchObject({ state: 'refusing', reachable: true });
    expect(sink.health().reason).toMatch(/^HTTP 400: .*field type conflict/);
    sink.write([point(3)]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 2, points_rejected: 1, pending: 0 });
    expect(sink.health()).toMatchObject({ state: 'ok', reason: null });
    await sink.close();
  });

  it('keeps points through an outage and delivers them after a back-off', async () => {
    const db = await freshDb();
    const clock = new ManualClock(T0);
    const sink = new InfluxV1Sink({ url: influx().url, database: db, clock, retry_initial_ms: 1000, logger: memoryLogger() });
    await influx().halt();
    try {
      sink.write([point(1), point(2)]);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ points_written: 0, write_errors: 1, pending: 2 });
      sink.write([point(3)]);
      await sink.flush(); // in back-off: nothing is sent before the retry timer
      expect(sink.stats()).toMatchObject({ write_errors: 1, pending: 3 });
    } finally {
      await influx().restart();
    }
    clock.advance(1000);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 3, retries: 1, pending: 0, points_lost: 0 });
    const [s] = await influx().query(db, 'SELECT count(active_power_w) FROM pdu');
    expect(s!.values[0]![1]).toBe(3);
    await sink.close();
  });
});
