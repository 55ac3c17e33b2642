import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreHistory, type RestoreReport } from '../../../collector/federation/restore.js';
import { InfluxQlSummaries, SqliteSummaries } from '../../../collector/federation/stored-summaries.js';
import { SummaryTracker } from '../../../collector/federation/summary-builder.js';
import { summaryPoint } from '../../../collector/federation/summary-points.js';
import type { StoredSummaries } from '../../../collector/federation/summary-store.js';
import { KpiEngine } from '../../../collector/kpi-engine.js';
import { InfluxQlReader } from '../../../collector/recompute/influxql-reader.js';
import type { StoredReadings } from '../../../collector/recompute/stored-polls.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { createSink } from '../../../collector/store/create-sink.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import type { MetricSink } from '../../../collector/store/metric-sink.js';
import { readingPoints } from '../../../collector/store/reading-points.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock, SystemClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import type { KpiValue, Reading, TelemetryMessage } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { SUMMARY_MEASUREMENT } from '../../../contract/storage-schema.js';
import type { SiteSummary } from '../../../contract/summary.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';

/**
 * A site collector restarted mid-January after 40 days of telemetry (from December 1, across a
 * month and a year boundary): the engine restored from the store — day summaries before the
 * late-data horizon, raw readings after it — must give the month, year-to-date, trailing-12-month
 * and annual PUE and green share the engine that never stopped gives, on the SQLite store and on
 * a real InfluxDB 1.6.7.
 */

const profiles = loadProfiles();
const SITE = 'rs';
const Q = 900_000;
const DAY = 86_400_000;
const SETTLE = 60_000;
// 2025-12-01 00:00 in Asia/Shanghai.
const DEC1 = Date.UTC(2025, 10, 30, 16);
/** The restart: 2026-01-10 10:07 local, 40 days and a bit in. */
const RESTART = DEC1 + 40 * DAY + 10 * 3_600_000 + 7 * 60_000;
/** sub-1 (a submeter, group other) is silent after Jan 4 00:00 local until after the restart; its backlog comes late. */
const SUB_SILENT = DEC1 + 34 * DAY;

const inv = SiteInventorySchema.parse({
  site: { id: SITE, name: 'Restored', pue_it_level: 'pdu_out', timezone: 'Asia/Shanghai' },
  halls: [{ id: 'h1' }],
  racks: [{ id: 'r1', hall: 'h1', rated_kw: 120 }],
  devices: [
    { id: 'in-1', profile: 'eastron-sdm630', address: { protocol: 'modbus', host: '127.0.0.1', unit_id: 1 }, interval_s: 900, meter: { role: 'facility_in', rated_kw: 300 } },
    { id: 'pv-1', profile: 'sunspec-inverter', address: { protocol: 'modbus', host: '127.0.0.1', unit_id: 2 }, interval_s: 900, meter: { role: 'green_onsite', behind_meter: true, rated_kw: 50 } },
    { id: 'sub-1', profile: 'eastron-sdm630', address: { protocol: 'modbus', host: '127.0.0.1', unit_id: 3 }, interval_s: 900, meter: { role: 'other', rated_kw: 50 } },
    { id: 'pdu-r1', profile: 'apc-rpdu2', rack: 'r1', address: { protocol: 'snmp', host: '127.0.0.1', community: 'r1' }, interval_s: 900, meter: { role: 'it', level: 'pdu_out', rated_kw: 120 } },
  ],
  green_certificates: [{ id: 'gec-dec', period: '2025-12', certificates: 3 }],
});
const registry = buildSiteRegistry([inv], profiles).get(SITE)!;

/** Power by local day number since Dec 1: PUE and green share move from day to day, so which days a window holds shows. */
function kw(device: string, t: number): number {
  const d = Math.floor((t - DEC1) / DAY);
  const it = 60 + 5 * (d % 7);
  const pv = 8 + (d % 3);
  if (device === 'pdu-r1') return it;
  if (device === 'pv-1') return pv;
  if (device === 'sub-1') return 20 + (d % 4);
  return it * (1.2 + 0.02 * (d % 5)) - pv;
}

interface Poll {
  device: string;
  ts: number;
  readings: Reading[];
}

/** Every device every 15 minutes from Dec 1 to `to`; counters are the integral of the day's power. */
function polls(to: number): Poll[] {
  const counters: Record<string, number> = { 'in-1': 5000, 'pv-1': 700, 'sub-1': 900, 'pdu-r1': 3000 };
  const out: Poll[] = [];
  for (let t = DEC1; t <= to; t += Q) {
    for (const device of ['in-1', 'pv-1', 'sub-1', 'pdu-r1']) {
      if (t > DEC1) counters[device]! += (kw(device, t - Q) * Q) / 3_600_000;
      out.push({ device, ts: t, readings: [{ point: 'active_power_w', value: kw(device, t) * 1000, unit: 'W', quality: 'good' }, { point: 'energy_kwh', value: counters[device]!, unit: 'kWh', quality: 'good' }] });
    }
  }
  return out;
}

const ALL = polls(RESTART + 3 * 3_600_000);
const silentSub = (p: Poll) => p.device === 'sub-1' && p.ts > SUB_SILENT;
/** What the site saw before the restart: sub-1's readings after it went silent are held back in its agent. */
const BEFORE = ALL.filter((p) => p.ts <= RESTART && !silentSub(p));
/** After the restart: sub-1's backlog (in order, as an agent's spool replays it), then live data of all. */
const BACKLOG = ALL.filter((p) => silentSub(p) && p.ts <= RESTART);
const AFTER = ALL.filter((p) => p.ts > RESTART);

function message(p: Poll, seq: number): TelemetryMessage {
  const d = registry.devices.get(p.device)!;
  return { schema: 1, agent: 'a1', site: SITE, device: p.device, class: d.class!, seq, ts: p.ts, readings: p.readings, poll: { ms: 10, requests: 1, retries: 0 } };
}

const newEngine = () => KpiEngine.create({ inventories: [inv], profiles, config: { settle_ms: SETTLE } });

/** The collector before the restart: every poll into the engine and the store, the summaries it builds every 5 minutes stored too. */
function runBefore(engine: KpiEngine, write: (points: MetricPoint[]) => void, clock?: ManualClock): SiteSummary[] {
  const tracker = new SummaryTracker(engine.siteSource(SITE)!, { settle_ms: SETTLE, late_days: 3 });
  const stored: SiteSummary[] = [];
  let tick = BEFORE[0]!.ts;
  let seq = 0;
  const tickTo = (t: number) => {
    while (tick <= t) {
      clock?.set(tick);
      const due = tracker.due(tick);
      stored.push(...due);
      if (due.length > 0) write(due.map(summaryPoint));
      tick += Q;
    }
  };
  for (const p of BEFORE) {
    tickTo(p.ts);
    engine.ingest(SITE, p.device, p.ts, p.readings);
    write(readingPoints(message(p, ++seq), registry.devices.get(p.device)!.tags));
  }
  tickTo(RESTART);
  return stored;
}

const key = (v: KpiValue) => `${v.kpi}|${v.window}|${v.basis}`;
const LONG = ['1mo', 'ytd', '12mo', '1y'];
const GREEN_MONTH = 'green_share_ratio|1mo|energy_and_certificates';

/** The long-window PUE, green share and occupancy figures of the site at `now`. */
function longFigures(engine: KpiEngine, now: number): Map<string, KpiValue> {
  return new Map(
    engine
      .evaluate(SITE, now)
      .filter((v) => LONG.includes(v.window))
      .map((v) => [key(v), v]),
  );
}

/** Equal: same ok, quality, coverage, inputs; values within 1e-9. */
function expectSameFigures(after: Map<string, KpiValue>, before: Map<string, KpiValue>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [k, b] of before) {
    const a = after.get(k)!;
    expect({ k, ok: a.ok, quality: a.quality, status: a.status }).toEqual({ k, ok: b.ok, quality: b.quality, status: b.status });
    if (b.value === undefined) expect(a.value, k).toBeUndefined();
    else expect(Math.abs(a.value! - b.value), k).toBeLessThan(1e-9);
    expect(Math.abs((a.coverage ?? 0) - (b.coverage ?? 0)), k).toBeLessThan(1e-9);
    for (const [input, x] of Object.entries(b.inputs ?? {})) expect(Math.abs((a.inputs?.[input] ?? Number.NaN) - x), `${k} ${input}`).toBeLessThan(1e-9);
  }
}

const noSummaries: StoredSummaries = { summaries: () => Promise.resolve([]), sites: () => Promise.resolve([]), skipped: 0 };

/** The whole scenario over one store. */
function restartSuite(name: string, open: () => Promise<{ sink: MetricSink; summaries: StoredSummaries; readings: StoredReadings; clock?: ManualClock; corrupt: (p: MetricPoint) => Promise<void> }>) {
  describe(`restore from ${name}`, () => {
    let original: KpiEngine;
    let stored: SiteSummary[];
    let store: Awaited<ReturnType<typeof open>>;
    let restored: KpiEngine;
    let report: RestoreReport;

    beforeAll(async () => {
      store = await open();
      original = newEngine();
      stored = runBefore(original, (points) => store.sink.write(points), store.clock);
      await store.sink.flush();
      expect(store.sink.stats().points_invalid).toBe(0);
      restored = newEngine();
      report = await restoreHistory(restored, { summaries: store.summaries, readings: store.readings }, RESTART);
      // Months of readings through two engines: a hang-catcher, generous for a loaded machine.
    }, 600_000);

    it('month, year-to-date, trailing-12-month and last-year PUE and green share are those of the engine that never stopped', () => {
      const before = longFigures(original, RESTART);
      const after = longFigures(restored, RESTART);
      for (const k of ['pue|1mo|energy', 'pue|ytd|energy', 'pue|12mo|energy', 'pue|1y|energy', GREEN_MONTH, 'green_share_ratio|ytd|energy_and_certificates', 'green_share_ratio|1y|energy_and_certificates', 'ref_ratio|1y|iso_iec_30134_3', 'rack_occupancy_ratio|1mo|mean_of_days']) {
        expect(before.has(k), k).toBe(true);
      }
      // The month and the year to date are complete figures, not two unknowns compared.
      expect(before.get('pue|1mo|energy')?.ok).toBe(true);
      expect(before.get('pue|ytd|energy')?.ok).toBe(true);
      expectSameFigures(after, before);
      expect(report.days_seeded).toBeGreaterThanOrEqual(36);
      expect(report.polls_replayed).toBeGreaterThan(0);
      expect(report.sites[0]!.horizon_ms).toBe(DEC1 + 37 * DAY);
    });

    it('without the day summaries (raw readings replayed only) the long windows come out different', async () => {
      const bare = newEngine();
      await restoreHistory(bare, { summaries: noSummaries, readings: store.readings }, RESTART);
      const before = longFigures(original, RESTART);
      const after = longFigures(bare, RESTART);
      for (const k of ['pue|1mo|energy', 'pue|12mo|energy', GREEN_MONTH]) expect(after.get(k)?.inputs, k).not.toEqual(before.get(k)?.inputs);
    });

    it('the summary tracker, told what is stored, sends nothing again for unchanged windows', () => {
      const tracker = new SummaryTracker(restored.siteSource(SITE)!, { settle_ms: SETTLE, late_days: 3 });
      tracker.remember(report.recent.get(SITE)!);
      expect(report.recent.get(SITE)!.length).toBeGreaterThan(300);
      const again = tracker.due(RESTART);
      // Only windows that closed since the last tick before the restart: none of them was stored.
      const storedIds = new Set(stored.map((x) => `${x.window}@${x.window_start}`));
      expect(again.length).toBeLessThanOrEqual(2);
      expect(again.filter((x) => storedIds.has(`${x.window}@${x.window_start}`))).toEqual([]);
      // Told nothing, it would send every window of the late-data horizon once more.
      expect(new SummaryTracker(restored.siteSource(SITE)!, { settle_ms: SETTLE, late_days: 3 }).due(RESTART).length).toBeGreaterThan(300);
      expect(stored.length).toBeGreaterThan(0);
    });

    it('late data after the restart (a silent meter’s backlog) still lands in the seeded days, as without the restart', () => {
      const subDay = (e: KpiEngine, day: number) => e.siteSource(SITE)!.groupSums({ start: DEC1 + day * DAY, end: DEC1 + (day + 1) * DAY }).other;
      // Jan 5 (day 35) is a seeded day with no sub-1 energy: it was silent.
      expect(subDay(restored, 35).kwh).toBe(0);
      expect(report.sites[0]!.meters_silent).toBe(1);
      const monthBefore = restored.siteSource(SITE)!.groupSums({ start: DEC1 + 31 * DAY, end: DEC1 + 40 * DAY }).other.kwh;
      for (const e of [original, restored]) {
        for (const p of [...BACKLOG, ...AFTER]) e.ingest(SITE, p.device, p.ts, p.readings);
      }
      const now = AFTER.at(-1)!.ts;
      for (const day of [33, 34, 35, 36, 37, 38, 39, 40]) expect(subDay(restored, day), `day ${day}`).toEqual(subDay(original, day));
      expect(subDay(restored, 35).kwh).toBeCloseTo(24 * (20 + (35 % 4)), 6);
      expect(restored.siteSource(SITE)!.groupSums({ start: DEC1 + 31 * DAY, end: DEC1 + 40 * DAY }).other.kwh - monthBefore).toBeGreaterThan(100);
      expectSameFigures(longFigures(restored, now), longFigures(original, now));
    });

    it('a reading older than the replay, for a meter it primed, changes no seeded day and is counted', () => {
      const facility = (day: number) => restored.siteSource(SITE)!.groupSums({ start: DEC1 + day * DAY, end: DEC1 + (day + 1) * DAY }).facility_in;
      const before = [33, 34, 35, 36].map(facility);
      const counted = restored.stats().readings_before_restore;
      // in-1's Jan 4 12:00 reading again (an agent replaying an old spool): the ledger's first reading is at the replay start.
      const old = ALL.find((p) => p.device === 'in-1' && p.ts === DEC1 + 34 * DAY + 12 * 3_600_000)!;
      const r = restored.ingest(SITE, old.device, old.ts, old.readings);
      expect([33, 34, 35, 36].map(facility)).toEqual(before);
      expect(restored.stats().readings_before_restore).toBe(counted + 1);
      expect(r.absorbed).toBe(1);
    });

    it('a malformed stored row is skipped and counted, the rest read', async () => {
      const first = stored.find((s) => s.window === '1d')!;
      const before = store.summaries.skipped;
      await store.corrupt({ measurement: SUMMARY_MEASUREMENT, tags: { site: SITE, window: '1d' }, fields: { revision: { int: 1 }, generated_ms: { int: 1 }, window_end_ms: { int: 1 }, body: '{"schema":1,"site":' }, ts_ms: first.window_start - DAY });
      // A body that is a summary, but of another day than the time it is stored at.
      await store.corrupt({ ...summaryPoint(first), ts_ms: first.window_start - 2 * DAY });
      const days = await store.summaries.summaries(SITE, '1d', DEC1 - 3 * DAY, DEC1 + 40 * DAY);
      expect(store.summaries.skipped - before).toBe(2);
      expect(days.map((d) => d.window_start)).toEqual([...new Set(stored.filter((s) => s.window === '1d').map((s) => s.window_start))].sort((a, b) => a - b));
      const fresh = newEngine();
      const r = await restoreHistory(fresh, { summaries: store.summaries, readings: store.readings }, RESTART);
      expect(r.rows_skipped).toBe(2);
      expect(await store.summaries.sites()).toEqual([SITE]);
    });

    afterAll(async () => {
      await store?.readings.close();
    });
  });
}

restartSuite('the SQLite store', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dcim-restore-'));
  const clock = new ManualClock(DEC1);
  // The default week of raw readings: older raw samples are pruned as the clock moves, day and month summaries stay.
  const sink = new SqliteSink({ path: path.join(dir, 'store.db'), clock, retention_ms: 7 * DAY, logger: memoryLogger() });
  afterAll(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return Promise.resolve({
    sink,
    clock,
    summaries: new SqliteSummaries(sink),
    readings: { target: 'sqlite', slice: (site, m, from, to) => Promise.resolve(sink.rawRows(site, m, from, to)), close: () => Promise.resolve() },
    corrupt: async (p) => {
      sink.write([p]);
      await sink.flush();
    },
  });
});

describe('InfluxDB 1.6.7', () => {
  const influx = useService('influxd', () => startInfluxV1());
  restartSuite('InfluxDB 1.6.7 (InfluxQL)', async () => {
    const i = influx();
    await i.createDatabase('dcim');
    const sink = createSink({ kind: 'influx_v1', url: i.url, database: 'dcim', batch_lines: 5000 }, { clock: new SystemClock(), logger: memoryLogger() });
    afterAll(() => sink.close());
    return {
      sink,
      summaries: new InfluxQlSummaries({ url: i.url, database: 'dcim' }),
      readings: new InfluxQlReader({ url: i.url, database: 'dcim' }),
      corrupt: async (p) => {
        sink.write([p]);
        await sink.flush();
      },
    };
  });
});
