import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kpiPoint } from '../../../collector/store/kpi-points.js';
import { int, type MetricPoint } from '../../../collector/store/metric-point.js';
import { rawRowsSql, SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiValue } from '../../../contract/messages.js';

const T0 = Date.UTC(2026, 0, 1, 8);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dcim-sqlite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pue = (at: number, over: Partial<KpiValue> = {}): KpiValue => ({
  kpi: 'pue_live',
  window: 'instant',
  window_start: at,
  window_end: at,
  ok: true,
  value: 1.25,
  basis: 'power',
  category: 2,
  coverage: 1,
  quality: 'measured',
  target: 1.2,
  status: 'amber',
  inputs: { facility_power_w: 10_000, it_power_w: 8_000, input_spread_ms: 0 },
  ...over,
});
const raw = (device: string, ts_ms: number, fields: MetricPoint['fields']): MetricPoint => ({ measurement: 'pdu', tags: { site: 'demo', device, hall: 'h1' }, fields, ts_ms });

describe('SqliteSink', () => {
  it('stores raw series and answers a series query by tags and time', async () => {
    const sink = new SqliteSink({ path: path.join(dir, 'a.sqlite'), clock: new ManualClock(T0), logger: memoryLogger() });
    sink.write([raw('pdu-1', T0, { active_power_w: 1000, load_state: 'normal', on: true, outlets_count: int(24) }), raw('pdu-1', T0 + 5000, { active_power_w: 1010 }), raw('pdu-2', T0, { active_power_w: 2000 })]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_queued: 3, points_written: 3, pending: 0 });
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', tags: { device: 'pdu-1' }, since_ms: T0 }).map((s) => [s.ts_ms, s.value])).toEqual([
      [T0, 1000],
      [T0 + 5000, 1010],
    ]);
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', since_ms: T0, until_ms: T0 })).toHaveLength(2);
    expect(sink.series({ measurement: 'pdu', field: 'load_state', since_ms: 0 })[0]).toEqual({ ts_ms: T0, value: 'normal', tags: { device: 'pdu-1', hall: 'h1', site: 'demo' } });
    expect(sink.series({ measurement: 'pdu', field: 'on', since_ms: 0 })[0]!.value).toBe(1);
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', tags: { device: "x' OR 1=1 --" }, since_ms: 0 })).toEqual([]);
    await sink.close();
  });

  it('reads a slice of raw rows through the time index, whatever else the store holds', async () => {
    const file = path.join(dir, 'raw-rows.sqlite');
    const sink = new SqliteSink({ path: file, clock: new ManualClock(T0), logger: memoryLogger() });
    // A week of two PDUs every 15 minutes; the slice is one hour of it.
    const points: MetricPoint[] = [];
    for (let k = 0; k < 7 * 96; k++) for (const d of ['pdu-1', 'pdu-2']) points.push(raw(d, T0 + k * 900_000, { active_power_w: 1000 + k, energy_kwh: 10 + k }));
    points.push({ ...raw('pdu-9', T0 + 900_000, { active_power_w: 5 }), tags: { site: 'other', device: 'pdu-9' } });
    sink.write(points);
    await sink.flush();
    const rows = sink.rawRows('demo', ['pdu'], T0 + 900_000, T0 + 2 * 900_000);
    expect(rows).toEqual([
      { measurement: 'pdu', tags: { device: 'pdu-1', hall: 'h1', site: 'demo' }, ts_ms: T0 + 900_000, fields: { active_power_w: 1001, energy_kwh: 11 } },
      { measurement: 'pdu', tags: { device: 'pdu-2', hall: 'h1', site: 'demo' }, ts_ms: T0 + 900_000, fields: { active_power_w: 1001, energy_kwh: 11 } },
    ]);
    await sink.close();
    // A JOIN lets SQLite start from the series and read every stored sample of each (the key puts
    // the field before the time) for every slice: a year's recompute then reads the year 8,760 times.
    const db = new Database(file, { readonly: true });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${rawRowsSql(1)}`).all('pdu', 'demo', 0, 1) as { detail: string }[]).map((r) => r.detail);
    db.close();
    expect(plan[0]).toMatch(/^SEARCH x USING INDEX samples_ts \(ts_ms>\? AND ts_ms<\?\)/);
    expect(plan.some((d) => /SEARCH x USING PRIMARY KEY/.test(d))).toBe(false);
  });

  it('keeps numeric-looking text as text', async () => {
    const sink = new SqliteSink({ path: ':memory:', clock: new ManualClock(T0), logger: memoryLogger() });
    sink.write([raw('pdu-1', T0, { serial: '00123' })]);
    await sink.flush();
    expect(sink.series({ measurement: 'pdu', field: 'serial', since_ms: 0 })[0]!.value).toBe('00123');
    await sink.close();
  });

  it('writing the same series, field and ms again replaces the sample (idempotent KPI writes)', async () => {
    const sink = new SqliteSink({ path: ':memory:', clock: new ManualClock(T0), logger: memoryLogger() });
    sink.write([kpiPoint('demo', pue(T0))]);
    sink.write([kpiPoint('demo', pue(T0, { value: 1.3 }))]);
    await sink.flush();
    expect(sink.series({ measurement: 'kpi', field: 'value', tags: { kpi: 'pue_live' }, since_ms: 0 }).map((s) => s.value)).toEqual([1.3]);
    await sink.close();
  });

  it('keeps the latest KPI per site, kpi, window and basis, never moving back in time', async () => {
    const file = path.join(dir, 'kpi.sqlite');
    const sink = new SqliteSink({ path: file, clock: new ManualClock(T0), logger: memoryLogger() });
    sink.write([kpiPoint('demo', pue(T0 + 5000)), kpiPoint('other', pue(T0, { ok: false, value: undefined, reason: 'DCIM_E_KPI_STALE: no fresh power from pdu-1', quality: 'insufficient', status: 'grey', inputs: {} }))]);
    await sink.flush();
    sink.write([kpiPoint('demo', pue(T0, { value: 9 }))]);
    await sink.flush();
    expect(sink.latestKpis('demo')).toEqual([
      { site: 'demo', kpi: 'pue_live', window: 'instant', basis: 'power', ts_ms: T0 + 5000, quality: 'measured', category: 2, value: 1.25, ok: true, coverage: 1, target: 1.2, status: 'amber', inputs: { facility_power_w: 10_000, it_power_w: 8_000, input_spread_ms: 0 } },
    ]);
    expect(sink.latestKpis('other')[0]).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', reason: 'DCIM_E_KPI_STALE: no fresh power from pdu-1' });
    expect(sink.latestKpis('other')[0]!.value).toBeUndefined();
    expect(sink.latestKpis()).toHaveLength(2);
    await sink.close();

    const reopened = new SqliteSink({ path: file, clock: new ManualClock(T0), logger: memoryLogger() });
    expect(reopened.latestKpis('demo')[0]!.value).toBe(1.25);
    await reopened.close();
  });

  it('applies the line-protocol checks: bad points and fields are counted, not stored', async () => {
    const sink = new SqliteSink({ path: ':memory:', clock: new ManualClock(T0), logger: memoryLogger() });
    sink.write([raw('pdu-1', T0, { a_w: NaN, b_w: 2 }), raw('pdu-1', NaN, { a_w: 1 }), { measurement: '', tags: {}, fields: { a: 1 }, ts_ms: T0 }]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_invalid: 2, fields_dropped: 1, points_written: 1 });
    expect(sink.series({ measurement: 'pdu', field: 'a_w', since_ms: 0 })).toEqual([]);
    await sink.close();
  });

  it('flushes on its timer and prunes samples past retention', async () => {
    const clock = new ManualClock(T0);
    const sink = new SqliteSink({ path: ':memory:', clock, flush_interval_ms: 1000, retention_ms: 60_000, logger: memoryLogger() });
    sink.write([raw('pdu-1', T0 - 120_000, { a_w: 1 }), raw('pdu-1', T0, { a_w: 2 })]);
    expect(sink.stats().pending).toBe(2);
    clock.advance(1000);
    expect(sink.stats()).toMatchObject({ pending: 0, points_written: 2 });
    expect(sink.series({ measurement: 'pdu', field: 'a_w', since_ms: 0 }).map((s) => s.value)).toEqual([2]);
    await sink.close();
  });

  it('bounds its buffer and counts what close could not keep', async () => {
    const sink = new SqliteSink({ path: ':memory:', clock: new ManualClock(T0), max_buffer_points: 2, logger: memoryLogger() });
    sink.write([raw('a', T0, { x_w: 1 }), raw('b', T0, { x_w: 1 }), raw('c', T0, { x_w: 1 })]);
    expect(sink.stats()).toMatchObject({ pending: 2, points_lost: 1 });
    await sink.close();
    sink.write([raw('d', T0, { x_w: 1 })]);
    expect(sink.stats()).toMatchObject({ points_written: 2, points_lost: 2 });
  });
});
