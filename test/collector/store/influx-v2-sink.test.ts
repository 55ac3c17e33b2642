import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV2Sink } from '../../../collector/store/influx-v2-sink.js';
import { int, type MetricPoint } from '../../../collector/store/metric-point.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { useService } from '../../support/require-service.js';
import { startVictoriaMetrics } from '../../support/victoria-metrics.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0, 123);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dcim-v2-sink-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('InfluxV2Sink (official client) against VictoriaMetrics /api/v2/write', () => {
  const vm = useService('victoria-metrics', () => startVictoriaMetrics());
  const sinkFor = (over: Partial<ConstructorParameters<typeof InfluxV2Sink>[0]> = {}) =>
    new InfluxV2Sink({ url: vm().url, org: 'dcim', bucket: 'dcim', token: 'unused-by-vm', logger: memoryLogger(), ...over });

  it('writes raw and KPI points with ms timestamps; VM names series <measurement>_<field>', async () => {
    const sink = sinkFor({ gzip_threshold_bytes: 1 });
    const points: MetricPoint[] = [
      { measurement: 'pdu', tags: { site: 'v2a', device: 'pdu-1', hall: 'h1' }, fields: { active_power_w: 1140.5, outlets_count: int(24) }, ts_ms: T0 },
      { measurement: 'pdu', tags: { site: 'v2a', device: 'pdu-1', hall: 'h1' }, fields: { active_power_w: 1150 }, ts_ms: T0 + 5000 },
      { measurement: 'kpi', tags: { site: 'v2a', kpi: 'pue_live', window: 'instant', basis: 'power', quality: 'measured', category: '2' }, fields: { value: 1.25, coverage: 1, status: 'amber' }, ts_ms: T0 + 5000 },
    ];
    sink.write(points);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_queued: 3, points_written: 3, pending: 0, points_rejected: 0 });

    const power = await vm().waitForSeries('{__name__="pdu_active_power_w",site="v2a"}', (s) => s[0]?.values.length === 2);
    expect(power).toHaveLength(1);
    expect(power[0]!.metric).toMatchObject({ device: 'pdu-1', hall: 'h1', site: 'v2a' });
    expect(power[0]!.values).toEqual([1140.5, 1150]);
    expect(power[0]!.timestamps).toEqual([T0, T0 + 5000]);
    const outlets = await vm().waitForSeries('{__name__="pdu_outlets_count",site="v2a"}');
    expect(outlets[0]!.values).toEqual([24]);
    const pue = await vm().waitForSeries('{__name__="kpi_value",site="v2a"}');
    expect(pue[0]!.metric).toMatchObject({ kpi: 'pue_live', window: 'instant', category: '2', quality: 'measured' });
    expect(pue[0]!.values).toEqual([1.25]);
    await sink.close();
  });

  it('batches through the client: 12 points in batches of 5', async () => {
    const sink = sinkFor({ batch_lines: 5 });
    sink.write(Array.from({ length: 12 }, (_, i) => ({ measurement: 'meter', tags: { site: 'v2b', device: `m-${i}` }, fields: { active_power_w: i }, ts_ms: T0 + i })));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 12, batches_written: 3, pending: 0 });
    const s = await vm().waitForSeries('{__name__="meter_active_power_w",site="v2b"}', (x) => x.length === 12);
    expect(s).toHaveLength(12);
    await sink.close();
  });

  it('sends a partial batch when its flush timer falls due', async () => {
    const clock = new ManualClock(T0);
    const sink = sinkFor({ clock, flush_interval_ms: 1000 });
    sink.write([{ measurement: 'pdu', tags: { site: 'v2g' }, fields: { a_w: 3 }, ts_ms: T0 }]);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.stats()).toMatchObject({ points_written: 0, pending: 1 });
    clock.advance(1);
    await sink.flush(); // nothing left to cut: waits for the batch the timer sent
    expect(sink.stats()).toMatchObject({ points_written: 1, batches_written: 1, pending: 0 });
    await sink.close();
  });

  it('counts invalid points and NaN fields before they reach the client', async () => {
    const sink = sinkFor();
    sink.write([
      { measurement: 'pdu', tags: { site: 'v2c' }, fields: { a_w: NaN, b_w: 1 }, ts_ms: T0 },
      { measurement: 'pdu', tags: { site: 'v2c\nx' }, fields: { a_w: 1 }, ts_ms: T0 },
    ]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_invalid: 1, fields_dropped: 1, points_written: 1 });
    await sink.close();
  });

  it('quarantines what the server refuses with a 4xx instead of retrying', async () => {
    const qdir = path.join(tmp, 'quarantine-v2');
    const logger = memoryLogger();
    // A path VM does not serve answers 4xx, as InfluxDB does for a missing bucket.
    const sink = sinkFor({ url: `${vm().url}/no-such-prefix`, quarantine_dir: qdir, logger });
    sink.write([{ measurement: 'pdu', tags: { site: 'v2d' }, fields: { a_w: 1 }, ts_ms: T0 }]);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 0, points_rejected: 1, batches_rejected: 1, retries: 0, pending: 0 });
    expect(await readdir(qdir)).toHaveLength(1);
    expect(logger.lines.find((l) => l.code === 'DCIM_E_STORE_REJECTED')?.status).toBeGreaterThanOrEqual(400);
    await sink.close();
  });

  it('backs off through an outage and delivers everything when the store is back', async () => {
    const clock = new ManualClock(T0);
    const sink = sinkFor({ clock, retry_initial_ms: 1000 });
    await vm().halt();
    try {
      sink.write([{ measurement: 'pdu', tags: { site: 'v2f' }, fields: { a_w: 1 }, ts_ms: T0 }]);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ points_written: 0, write_errors: 1, retries: 0, pending: 1 });
      expect(sink.health()).toMatchObject({ reachable: false, retry_at_ms: T0 + 1000 });
    } finally {
      await vm().restart();
    }
    clock.advance(1000);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 1, retries: 1, pending: 0, points_lost: 0 });
    expect(sink.health()).toMatchObject({ reachable: true, last_success_ms: T0 + 1000 });
    expect((await vm().waitForSeries('{__name__="pdu_a_w",site="v2f"}'))[0]!.values).toEqual([1]);
    await sink.close();
  });

  it('counts points written after close as lost', async () => {
    const sink = sinkFor();
    await sink.close();
    sink.write([{ measurement: 'pdu', tags: { site: 'v2e' }, fields: { a_w: 1 }, ts_ms: T0 }]);
    expect(sink.stats()).toMatchObject({ points_lost: 1, points_queued: 0 });
  });
});
