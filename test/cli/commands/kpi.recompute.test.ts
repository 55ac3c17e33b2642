import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/dcim.js';
import { loadCollectorConfig } from '../../../collector/config.js';
import { recomputeStored } from '../../../collector/recompute/recompute-stored.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { InfluxV1Sink } from '../../../collector/store/influx-v1-sink.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { readingPoints } from '../../../collector/store/reading-points.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock, SiteInventorySchema, type KpiValue, type TelemetryMessage } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';
import { simulateReadings, type SimReadings } from '../kpi-sim-readings.js';
import { REPO_ROOT } from '../../support/repo-path.js';

/**
 * `dcim kpi recompute`: KPIs recomputed from the raw readings a store holds (SQLite, InfluxDB
 * 1.x over InfluxQL), written back idempotently. The two-meter seed runs 2½ simulated hours; the
 * incomer's last hour reaches the store late, so the first recompute finds the last windows
 * insufficient; the late readings arrive and a second recompute replaces those points (one point
 * per window, measured, equal to the ground truth) — the reason quality is a field, not a tag.
 */
const ROOT = REPO_ROOT;
const SEED_FILE = join(ROOT, 'seeds', 'minimal.yaml');
const SEED = loadYamlFile(SiteInventorySchema, SEED_FILE);
const PROFILES = loadProfiles();
const START = Date.UTC(2026, 5, 1, 0, 0, 0);
const FROM = START + 30 * 60_000;
const TO = START + 2 * 3_600_000;
// The incomer's readings from 1 h 35 min on reach the store late (an agent's backlog after an outage).
const GAP = { from: START + 95 * 60_000, to: START + 200 * 60_000 };
const inGap = (m: TelemetryMessage) => m.device === 'meter-incomer-1' && m.ts >= GAP.from && m.ts < GAP.to;

let dir: string;
let sim: SimReadings;
const tags = buildSiteRegistry([SEED], PROFILES).get('demo')!.devices;
const points = (ms: readonly TelemetryMessage[]): MetricPoint[] => ms.flatMap((m) => readingPoints(m, tags.get(m.device)!.tags));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-kpi-recompute-'));
  sim = simulateReadings(SEED, PROFILES, { start_ms: START, duration_ms: 150 * 60_000, step_s: 10 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, store: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `collector: { id: recompute, sites: [${SEED_FILE}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: ${store}\n`);
  return file;
}

async function cli(args: string[]): Promise<{ code: number; out: Record<string, unknown>; errors: string }> {
  const chunks: string[] = [];
  const errors: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => chunks.push(String(c)) > 0);
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
  try {
    const code = await main(args);
    return { code, out: chunks.length > 0 ? (JSON.parse(chunks.join('')) as Record<string, unknown>) : {}, errors: errors.join('\n') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const truthPue = (k: KpiValue) => sim.truth.windows[k.window as '15m' | '1h'].find((w) => w.window_start === k.window_start)!.pue!;
const pueOf = (rows: { ts_ms: number; value: number | string | null }[]) => rows.map((r) => [r.ts_ms, r.value]);

describe('dcim kpi recompute against the SQLite store', () => {
  it('writes the windows inside [from, to], replaces them after late data, and is idempotent', async () => {
    const path = join(dir, 'store.sqlite');
    const cfg = configFile('sqlite', `{ kind: sqlite, path: ${path}, retention_days: 3650 }`);
    const raw = new SqliteSink({ path, clock: new ManualClock(START), retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
    raw.write(points(sim.messages.filter((m) => !inGap(m))));
    await raw.close();

    const dry = await cli(['kpi', 'recompute', '--site', 'demo', '--from', new Date(FROM).toISOString(), '--to', new Date(TO).toISOString(), '--config', cfg, '--dry-run']);
    expect(dry.code, dry.errors).toBe(0);
    expect(dry.out).toMatchObject({ site: 'demo', windows: { '15m': 6, '1h': 1 }, kpis_recomputed: expect.any(Number) });
    expect(dry.out.written).toBeUndefined();
    const read = () => {
      const s = new SqliteSink({ path, logger: memoryLogger() });
      const v = s.series({ measurement: 'kpi', field: 'value', tags: { kpi: 'pue', window: '15m' }, since_ms: 0 });
      const q = s.series({ measurement: 'kpi', field: 'quality', tags: { kpi: 'pue', window: '15m' }, since_ms: 0 });
      void s.close();
      return { v, q };
    };
    expect(read().v).toHaveLength(0);

    const first = await cli(['kpi', 'recompute', '--site', 'demo', '--from', '2026-06-01T08:30:00+08:00', '--to', new Date(TO).toISOString(), '--config', cfg]);
    expect(first.code, first.errors).toBe(0);
    expect(first.out).toMatchObject({ windows: { '15m': 6, '1h': 1 }, written: { points: first.out.kpis_recomputed } });
    const before = read();
    expect(before.q.map((r) => r.ts_ms)).toEqual([1, 2, 3, 4, 5, 6].map((i) => FROM + i * 15 * 60_000));
    // The windows the gap touches are not measured.
    expect(before.q.filter((r) => r.value !== 'measured').map((r) => [r.ts_ms, r.value])).toEqual([
      [START + 105 * 60_000, 'insufficient'],
      [START + 120 * 60_000, 'insufficient'],
    ]);
    expect(before.v).toHaveLength(4);

    // The late readings reach the store; recompute again, twice.
    const late = new SqliteSink({ path, clock: new ManualClock(START), retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
    late.write(points(sim.messages.filter(inGap)));
    await late.close();
    for (let i = 0; i < 2; i++) {
      const again = await cli(['kpi', 'recompute', '--site', 'demo', '--from', new Date(FROM).toISOString(), '--to', new Date(TO).toISOString(), '--config', cfg]);
      expect(again.code, again.errors).toBe(0);
    }
    const after = read();
    expect(after.q).toHaveLength(6);
    expect(after.v).toHaveLength(6);
    expect(after.q.every((r) => r.value === 'measured')).toBe(true);
    for (const [ts, value] of pueOf(after.v)) {
      const truth = sim.truth.windows['15m'].find((w) => w.window_end === ts)!.pue!;
      expect(Math.abs(Number(value) - truth) / truth).toBeLessThan(0.005);
    }
  });

  it('refuses a site the config does not serve, and a store file that does not exist', async () => {
    const cfg = configFile('missing', `{ kind: sqlite, path: ${join(dir, 'nope.sqlite')} }`);
    const other = await cli(['kpi', 'recompute', '--site', 'elsewhere', '--from', '2026-06-01', '--to', '2026-06-02', '--config', cfg]);
    expect(other.code).toBe(1);
    expect(other.errors).toMatch(/DCIM_E_CONFIG_INVALID: recompute: site elsewhere is not one of collector\.sites \(demo\)/);
    const none = await cli(['kpi', 'recompute', '--site', 'demo', '--from', '2026-06-01', '--to', '2026-06-02', '--config', cfg]);
    expect(none.code).toBe(1);
    expect(none.errors).toMatch(/DCIM_E_CONFIG_UNREADABLE: store\.path .*nope\.sqlite: no such SQLite store/);
  });
});

describe('dcim kpi recompute against influxd 1.x (InfluxQL read-back)', () => {
  const influx = useService('influxd', () => startInfluxV1());

  it('recomputes from stored readings, replaces insufficient windows after late data with measured ones equal to the ground truth, idempotent', async () => {
    await influx().createDatabase('recompute');
    const cfg = configFile('influx', `{ kind: influx_v1, url: '${influx().url}', database: recompute }`);
    const setup = loadCollectorConfig(cfg);
    const writeRaw = async (ms: readonly TelemetryMessage[]) => {
      const sink = new InfluxV1Sink({ url: influx().url, database: 'recompute', logger: memoryLogger() });
      sink.write(points(ms));
      await sink.close();
      expect(sink.stats()).toMatchObject({ points_rejected: 0, points_lost: 0, pending: 0 });
    };
    const recompute = () => recomputeStored({ setup, site: 'demo', from_ms: FROM, to_ms: TO, profiles: PROFILES, clock: new ManualClock(START), logger: memoryLogger() });
    const stored = async () => {
      const [s] = await influx().query('recompute', `SELECT "value", "quality" FROM "kpi" WHERE "kpi" = 'pue' AND "window" = '15m' AND "site" = 'demo'`);
      return (s?.values ?? []).map(([t, v, q]) => ({ t: Number(t), v: Number(v), q: String(q) }));
    };

    await writeRaw(sim.messages.filter((m) => !inGap(m)));
    const first = await recompute();
    expect(first.store).toBe(`influxql ${influx().url} db=recompute`);
    expect(first.windows).toMatchObject({ '15m': 6, '1h': 1 });
    expect(first.slices).toBe(Math.ceil((TO + 60_000 + 1 - (FROM - 3_600_000)) / 3_600_000));
    expect((await stored()).filter((r) => r.q !== 'measured').map((r) => r.t)).toEqual([START + 105 * 60_000, START + 120 * 60_000]);

    await writeRaw(sim.messages.filter(inGap));
    const second = await recompute();
    const third = await recompute();
    expect(third.kpis.map((c) => c.value)).toEqual(second.kpis.map((c) => c.value));
    const rows = await stored();
    expect(rows.map((r) => r.t)).toEqual([1, 2, 3, 4, 5, 6].map((i) => FROM + i * 15 * 60_000));
    expect(rows.every((r) => r.q === 'measured')).toBe(true);
    for (const c of second.kpis.filter((k) => k.value.kpi === 'pue' && k.value.ok)) {
      expect(Math.abs(c.value.value! - truthPue(c.value)) / truthPue(c.value)).toBeLessThan(0.005);
    }
    // One series per window kind: the quality changed, the point was replaced, nothing was added.
    const series = await influx().query('recompute', `SELECT count("quality") FROM "kpi" WHERE "kpi" = 'pue' GROUP BY *`);
    expect(series.map((x) => [x.tags, x.values[0]![1]])).toEqual([
      [{ basis: 'energy', category: '2', kpi: 'pue', site: 'demo', window: '15m' }, 6],
      [{ basis: 'energy', category: '2', kpi: 'pue', site: 'demo', window: '1h' }, 1],
    ]);
  });
});
