import Database from 'better-sqlite3';
import { join } from 'node:path';
import { summaryPoint } from '../collector/federation/summary-points.js';
import type { SiteCalendar } from '../shared/time/site-calendar.js';
import { buildSiteRegistry } from '../collector/state/site-registry.js';
import { readingPoints } from '../collector/store/reading-points.js';
import { SqliteSink } from '../collector/store/sqlite-sink.js';
import { ManualClock } from '../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../contract/inventory.js';
import { memoryLogger } from '../shared/log.js';
import type { Reading, TelemetryMessage } from '../contract/messages.js';
import { profilePoints, type DeviceProfile } from '../contract/profile.js';
import { METER_GROUPS, type MeterGroup, type SiteSummary } from '../contract/summary.js';
import { loadYamlFile } from '../shared/config/load.js';

/**
 * A year of the Gui'an seed site's stored readings for the year-long benchmarks, with the truth
 * the generator knows: every device polled every 15 minutes, the readings the KPIs use (each
 * profile's KPI-marked scalar points: power, energy counter, temperatures; the UPS output power
 * per line), written in the SQLite store's own format. Power is constant over each quarter hour,
 * so a counter's step between two polls is exactly that quarter's energy and the true energy of
 * any window on quarter-hour edges is a plain sum.
 *
 * The first poll of every device goes through the store's own sink (so series rows and tags are
 * exactly what the collector writes); the rest is inserted series by series in primary-key order
 * with the time index built afterwards, which is how a year of rows is written in minutes.
 */
export const QUARTER_MS = 15 * 60_000;
export const HOUR_MS = 3_600_000;
/** 2025-01-01T00:00 in Asia/Shanghai, the Gui'an seed's zone. */
export const YEAR_START = Date.UTC(2024, 11, 31, 16);
/** The end of the first `months` months of 2025, local time. */
export const monthEnd = (months: number) => Date.UTC(2025, months, 1) - 8 * HOUR_MS;
/** Stored from an hour before the year (counters need a previous sample). */
export const STORE_START = YEAR_START - HOUR_MS;

/** A year benchmark's `--name value` argument, and a comma-separated list of numbers. */
export function benchArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
export const benchList = (name: string, dflt: number[]): number[] => benchArg(name)?.split(',').map(Number) ?? dflt;

/** What a year benchmark's parent asks of the child process that runs one measurement. */
export interface YearBenchJob {
  store: string;
  devices: number;
  months: number;
  truth_file: string;
  /** The peer (the store's own read) over the first this many months only (default: all of them): a long run's ratio is then taken against the recompute's CPU at that month's end. */
  peer_months?: number;
}
const QUARTERS_PER_DAY = 96;
const GUIAN = join(import.meta.dirname, '..', 'seeds', 'guian.yaml');

/** The Gui'an seed with at most `devices` devices (whole racks, every device outside racks kept), every one polled every 15 minutes. */
export function guianSite(devices?: number): SiteInventory {
  const seed = loadYamlFile(SiteInventorySchema, GUIAN);
  const outside = seed.devices.filter((d) => d.rack === undefined);
  const kept = [...outside];
  const limit = devices ?? seed.devices.length;
  for (const rack of seed.racks) {
    const inRack = seed.devices.filter((d) => d.rack === rack.id);
    if (kept.length + inRack.length > limit) break;
    kept.push(...inRack);
  }
  const ids = new Set(kept.map((d) => d.id));
  return SiteInventorySchema.parse({ ...seed, devices: seed.devices.filter((d) => ids.has(d.id)).map((d) => ({ ...d, interval_s: 900 })) });
}

/** Energy per meter group per quarter hour (kWh), from the generator; index 0 is the quarter starting at `start_ms`. */
export interface YearTruth {
  start_ms: number;
  quarters: number;
  groups: Record<MeterGroup, Float64Array>;
}

/** kWh of one group over [from_ms, to_ms) (quarter-hour edges). */
export function truthKwh(t: YearTruth, group: MeterGroup, from_ms: number, to_ms: number): number {
  const a = Math.round((from_ms - t.start_ms) / QUARTER_MS);
  const b = Math.round((to_ms - t.start_ms) / QUARTER_MS);
  let s = 0;
  for (let k = Math.max(0, a); k < Math.min(b, t.quarters); k++) s += t.groups[group][k]!;
  return s;
}

/** Energy PUE over [from_ms, to_ms): facility (incomers, green feed, behind-the-meter PV) / IT at the PDU outputs. */
export function truthPue(t: YearTruth, from_ms: number, to_ms: number): number {
  const facility = truthKwh(t, 'facility_in', from_ms, to_ms) + truthKwh(t, 'green_feed', from_ms, to_ms) + truthKwh(t, 'green_onsite_behind', from_ms, to_ms) - truthKwh(t, 'export', from_ms, to_ms);
  return facility / truthKwh(t, 'it', from_ms, to_ms);
}

type Kind = 'pdu' | 'gpu' | 'ups' | 'pv' | 'facility_in' | 'green_feed' | 'cooling' | 'other' | 'other_power' | 'sensor';

interface DeviceModel {
  id: string;
  class: DeviceProfile['class'];
  kind: Kind;
  group: MeterGroup | undefined;
  base_kw: number;
  phase: number;
  /** Points stored per poll: name, and the index tag value set when the point is a table column. */
  points: { name: string; kpi: string; index?: Record<string, string> }[];
}

const frac = (x: number) => x - Math.floor(x);

function kindOf(inv: SiteInventory, d: SiteInventory['devices'][number], profile: DeviceProfile): Kind {
  const m = d.meter;
  if (m?.role === 'it' && m.level === inv.site.pue_it_level) return 'pdu';
  if (m?.role === 'it' && m.level === 'it_in') return 'gpu';
  if (m?.role === 'it') return 'ups';
  if (m?.role === 'green_onsite') return 'pv';
  if (m?.role === 'facility_in' || m?.role === 'green_feed' || m?.role === 'cooling' || m?.role === 'other') return m.role;
  return profilePoints(profile).some((p) => p.kpi === 'active_power_w') ? 'other_power' : 'sensor';
}

function groupOf(k: Kind): MeterGroup | undefined {
  switch (k) {
    case 'pdu':
      return 'it';
    case 'pv':
      return 'green_onsite_behind';
    case 'facility_in':
    case 'green_feed':
    case 'cooling':
    case 'other':
      return k;
    default:
      return undefined;
  }
}

function deviceModels(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>): DeviceModel[] {
  return inv.devices.map((d, i) => {
    const profile = profiles.get(d.profile);
    if (!profile) throw new Error(`${d.id}: no profile ${d.profile}`);
    const kind = kindOf(inv, d, profile);
    const points: DeviceModel['points'] = [];
    for (const p of profilePoints(profile)) {
      if (!p.kpi || p.kpi.endsWith('_model')) continue;
      if (p.index_tag === undefined) points.push({ name: p.name, kpi: p.kpi });
      else if (kind === 'ups') for (const line of ['1', '2', '3']) points.push({ name: p.name, kpi: p.kpi, index: { [p.index_tag]: line } });
    }
    const rated = d.meter?.rated_kw;
    const base_kw = kind === 'pdu' ? (rated ?? 10) * (0.35 + 0.2 * frac(i * 0.618)) : kind === 'gpu' ? (rated ?? 10) * 0.6 : kind === 'cooling' ? 80 : kind === 'other' ? 6 : kind === 'other_power' ? 12 : kind === 'pv' ? 40 : 0;
    return { id: d.id, class: profile.class, kind, group: groupOf(kind), base_kw, phase: frac(i * 0.377) * 2 * Math.PI, points };
  });
}

/** Local hour of the day (0..24) of quarter k after a local midnight. */
const hourOf = (k: number) => ((k % QUARTERS_PER_DAY) / QUARTERS_PER_DAY) * 24;

/** The site's power per quarter hour: every device's kW, the facility shares worked out from the IT sum so the true PUE moves with the seasons. */
class PowerModel {
  readonly it_kw: Float64Array;
  private readonly counts: Record<'facility_in' | 'pv' | 'ups', number>;

  constructor(
    readonly devices: readonly DeviceModel[],
    readonly quarters: number,
    /** Quarter index of the local midnight the diurnal shape is anchored to. */
    private readonly offset: number,
  ) {
    this.counts = { facility_in: devices.filter((d) => d.kind === 'facility_in').length, pv: devices.filter((d) => d.kind === 'pv').length, ups: devices.filter((d) => d.kind === 'ups').length };
    this.it_kw = new Float64Array(quarters);
    for (const d of devices) if (d.kind === 'pdu') for (let k = 0; k < quarters; k++) this.it_kw[k] = this.it_kw[k]! + this.own(d, k);
  }

  /** kW of a device that does not depend on the others. */
  private own(d: DeviceModel, k: number): number {
    const day = 1 + 0.06 * Math.sin((2 * Math.PI * (k - this.offset)) / QUARTERS_PER_DAY + d.phase);
    const season = 1 + 0.04 * Math.sin((2 * Math.PI * k) / (365 * QUARTERS_PER_DAY));
    return d.base_kw * day * season;
  }

  pue(k: number): number {
    return 1.27 + 0.08 * Math.sin((2 * Math.PI * k) / (365 * QUARTERS_PER_DAY) - Math.PI / 2) + 0.02 * Math.sin((2 * Math.PI * (k - this.offset)) / QUARTERS_PER_DAY);
  }

  pvKw(d: DeviceModel, k: number): number {
    const h = hourOf(k - this.offset);
    return h > 6 && h < 18 ? d.base_kw * Math.sin((Math.PI * (h - 6)) / 12) : 0;
  }

  /** kW of the whole PV plant (behind the meter: part of the facility's supply). */
  private pvTotal(k: number): number {
    const h = hourOf(k - this.offset);
    return h > 6 && h < 18 ? this.devices.reduce((s, d) => s + (d.kind === 'pv' ? d.base_kw : 0), 0) * Math.sin((Math.PI * (h - 6)) / 12) : 0;
  }

  kw(d: DeviceModel, k: number): number {
    switch (d.kind) {
      case 'facility_in': {
        const facility = this.it_kw[k]! * this.pue(k);
        const pv = this.pvTotal(k);
        return (0.7 * (facility - pv)) / this.counts.facility_in;
      }
      case 'green_feed':
        return 0.3 * (this.it_kw[k]! * this.pue(k) - this.pvTotal(k));
      case 'pv':
        return this.pvKw(d, k);
      case 'ups':
        return (this.it_kw[k]! * 1.02) / Math.max(1, this.counts.ups);
      default:
        return this.own(d, k);
    }
  }

  value(d: DeviceModel, point: DeviceModel['points'][number], k: number, energy: number): number {
    switch (point.kpi) {
      case 'active_power_w':
        return Math.round(this.kw(d, k) * 1000 * (point.index ? 1 / 3 : 1) * 10) / 10;
      case 'energy_kwh':
        return energy;
      case 'inlet_temp_c':
      case 'supply_temp_c':
        return Math.round((22 + 2 * Math.sin((2 * Math.PI * (k - this.offset)) / QUARTERS_PER_DAY + d.phase)) * 10) / 10;
      case 'return_temp_c':
        return Math.round((32 + 2 * Math.sin((2 * Math.PI * (k - this.offset)) / QUARTERS_PER_DAY + d.phase)) * 10) / 10;
      case 'gpu_utilisation_pct':
        return 70;
      default:
        return 1;
    }
  }
}

export interface YearStoreOptions {
  path: string;
  site: SiteInventory;
  profiles: ReadonlyMap<string, DeviceProfile>;
  /** A local midnight: quarter 0 starts here. */
  start_ms: number;
  quarters: number;
  /** Raw readings are written only from this quarter on (older ones are pruned in a real store); counters still count from quarter 0. */
  raw_from_quarter?: number;
  /** Day summaries (the federation's `1d` windows) for these local days [from, to), from the truth. */
  day_summaries?: { calendar: SiteCalendar; from_ms: number; to_ms: number };
}

export interface YearStore {
  truth: YearTruth;
  samples: number;
  series: number;
  took_ms: number;
}

/** Writes the store (a fresh file) and returns the truth. */
export async function writeYearStore(o: YearStoreOptions): Promise<YearStore> {
  const t0 = performance.now();
  const models = deviceModels(o.site, o.profiles);
  const model = new PowerModel(models, o.quarters, 0);
  const first = o.raw_from_quarter ?? 0;
  const energy0 = (d: DeviceModel) => 1000 + 100 * d.phase;
  const truth: YearTruth = { start_ms: o.start_ms, quarters: o.quarters, groups: Object.fromEntries(METER_GROUPS.map((g) => [g, new Float64Array(o.quarters)])) as YearTruth['groups'] };
  for (const d of models) {
    if (!d.group) continue;
    const g = truth.groups[d.group];
    for (let k = 0; k < o.quarters; k++) g[k] = g[k]! + model.kw(d, k) * 0.25;
  }

  // The first stored poll of every device through the store's own sink: its series rows and tags.
  const tags = buildSiteRegistry([o.site], o.profiles).get(o.site.site.id)!.devices;
  const sink = new SqliteSink({ path: o.path, clock: new ManualClock(o.start_ms), retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
  const counters = new Map<string, number>();
  const readingsAt = (d: DeviceModel, k: number): Reading[] =>
    d.points.map((p) => ({ point: p.name, value: model.value(d, p, k, counters.get(d.id)!), quality: 'good' as const, ...(p.index ? { index: p.index } : {}) }));
  for (const d of models) {
    let e = energy0(d);
    for (let k = 0; k < first; k++) e += model.kw(d, k) * 0.25;
    counters.set(d.id, e);
    const message: TelemetryMessage = { schema: 1, agent: 'bench', site: o.site.site.id, device: d.id, class: d.class, seq: 0, ts: o.start_ms + first * QUARTER_MS, readings: readingsAt(d, first), poll: { ms: 0, requests: 0, retries: 0 } };
    sink.write(readingPoints(message, tags.get(d.id)!.tags));
  }
  if (o.day_summaries) sink.write(daySummaries(o.site, truth, o.day_summaries).map(summaryPoint));
  await sink.flush();
  await sink.close();

  const db = new Database(o.path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.exec('DROP INDEX IF EXISTS samples_ts');
  const seriesRows = db.prepare("SELECT id, tags FROM series WHERE measurement != 'site_summary'").all() as { id: number; tags: string }[];
  const seriesOf = new Map<string, number>();
  for (const r of seriesRows) {
    const t = JSON.parse(r.tags) as Record<string, string>;
    seriesOf.set(`${t.device}|${t.line ?? ''}`, r.id);
  }
  const put = db.prepare('INSERT INTO samples (series_id, field, ts_ms, value) VALUES (?, ?, ?, ?)');
  let samples = models.reduce((s, d) => s + d.points.length, 0);
  const insertDevice = db.transaction((d: DeviceModel) => {
    // Series by series, field by field, in time: the primary key's order, so every insert appends.
    for (const p of d.points) {
      const id = seriesOf.get(`${d.id}|${p.index?.line ?? ''}`);
      if (id === undefined) throw new Error(`${d.id}: no series for ${p.name}`);
      let e = counters.get(d.id)!;
      for (let k = first; k < o.quarters; k++) {
        if (k > first) put.run(id, p.name, o.start_ms + k * QUARTER_MS, model.value(d, p, k, e));
        e += model.kw(d, k) * 0.25;
      }
      samples += o.quarters - first - 1;
    }
  });
  for (const d of models) insertDevice(d);
  db.exec('CREATE INDEX samples_ts ON samples (ts_ms)');
  db.pragma('journal_mode = WAL');
  db.close();
  return { truth, samples, series: seriesRows.length, took_ms: performance.now() - t0 };
}

/** The federation's day summaries of the local days in [from_ms, to_ms), every group from the truth, fully covered. */
export function daySummaries(site: SiteInventory, truth: YearTruth, o: { calendar: SiteCalendar; from_ms: number; to_ms: number }): SiteSummary[] {
  const models = site.devices.filter((d) => d.meter);
  const meters = (g: MeterGroup) => models.filter((d) => groupFor(site, d) === g).length;
  const out: SiteSummary[] = [];
  for (let day = o.calendar.dayNumber(o.from_ms); o.calendar.dayStart(day) < o.to_ms; day++) {
    const start = o.calendar.dayStart(day);
    const end = o.calendar.dayStart(day + 1);
    const groups = Object.fromEntries(
      METER_GROUPS.map((g) => [g, { kwh: truthKwh(truth, g, start, end), covered_ms: meters(g) * (end - start), resets: 0, spikes: 0, meters: meters(g), silent_tail_ms: 0, silent_tail_kwh: 0 }]),
    ) as SiteSummary['groups'];
    out.push({
      schema: 1,
      site: site.site.id,
      window: '1d',
      window_start: start,
      window_end: end,
      period: o.calendar.localDate(start),
      timezone: o.calendar.timezone,
      revision: end + 120_000,
      generated_ms: end + 120_000,
      category: 2,
      targets: { pue: site.targets?.pue ?? 1.3, rack_occupancy: site.targets?.rack_occupancy ?? 0.7, green_share: site.targets?.green_share ?? 0.5 },
      rated_kw_available: site.racks.reduce((s, r) => s + r.rated_kw, 0),
      groups,
      kpis: [],
    });
  }
  return out;
}

function groupFor(site: SiteInventory, d: SiteInventory['devices'][number]): MeterGroup | undefined {
  const m = d.meter;
  if (!m) return undefined;
  if (m.role === 'it') return m.level === site.site.pue_it_level ? 'it' : undefined;
  if (m.role === 'green_onsite') return m.behind_meter ? 'green_onsite_behind' : 'green_onsite_front';
  return m.role as MeterGroup;
}
