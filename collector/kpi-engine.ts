import { DcimError } from '../contract/errors.js';
import type { Cluster, SiteInventory } from '../contract/inventory.js';
import { kpiKey } from '../contract/kpi-catalogue.js';
import type { KpiValue, Reading, TelemetryMessage } from '../contract/messages.js';
import type { DeviceProfile } from '../contract/profile.js';
import { EnergyBuckets, type BucketSum } from './ledger/energy-buckets.js';
import { MeterLedger } from './ledger/meter-ledger.js';
import { computeFigures, type ComputeFigures, type UnitSeen } from './kpi/compute-scale.js';
import { emptyGroupSums, type GroupSums } from './kpi/energy-totals.js';
import { declaredItems, liveGreenShare } from './kpi/green-share.js';
import { livePue, type LatestLookup } from './kpi/live-pue.js';
import { DEFAULT_STALE_CARRY, type StaleCarry } from './kpi/power-meters.js';
import { judgeRackDay, type OccupancyDay } from './kpi/occupancy.js';
import { DAY_MS, QUARTER_MS } from '../shared/time/site-calendar.js';
import { clusterKpis, pastWindowKpis, siteKpis, type SiteSource } from './kpi/site-kpis.js';
import { buildSiteModel, DEFAULT_ON_RACK, METER_GROUPS, type MeterBinding, type MeterGroup, type OnRackRule, type SiteModel } from './kpi/site-model.js';
import { settledEdge, type WindowBounds } from './kpi/windows.js';
import { staleAfterMs, type LatestValue } from './state/latest-values.js';

/**
 * The KPI engine the collector drives (docs/design.md §5): accepted telemetry in (after dedup), KPI
 * values out. Per site it keeps one energy ledger per meter, 15-minute and daily energy buckets per
 * meter group, 15-minute buckets per rack, the latest power per meter, and the accelerators and
 * CPUs seen. `evaluate(site, now)` is a pure function of that state and `now`: every KPI and window
 * (live PUE and green share, energy PUE 15m…1y, occupancy and IT-load utilisation per day and
 * month, green share and REF, compute scale); `evaluateCluster` rolls sites up.
 *
 * State lives in memory, bounded at construction; after a restart it is rebuilt from the stored
 * raw readings by feeding them in time order (`KpiReplay`, collector/recompute/kpi-replay.ts), which
 * is also how `dcim kpi recompute` revises stored KPIs after late data or an inventory fix.
 */

export interface KpiEngineConfig {
  /** Wait this long after a quarter hour ends before treating it as complete (late meters). */
  settle_ms: number;
  /**
   * Late data recomputes 15-minute, hourly, daily and occupancy windows up to this many days back
   * (quarter-hour buckets are kept for late_days + 2 days); day buckets take late data for
   * `day_retention` days.
   */
  late_days: number;
  /** Days of daily energy kept: the last calendar year needs up to 731; default 800. */
  day_retention: number;
  on_rack: OnRackRule;
  /** An accelerator or CPU counts as installed while it reported its model this recently. */
  installed_ttl_ms: number;
  /** How long and how much a stale meter's last power may stand in for it in the live figures. */
  stale_carry: StaleCarry;
}

export const DEFAULT_ENGINE_CONFIG: KpiEngineConfig = {
  settle_ms: 60_000,
  late_days: 3,
  day_retention: 800,
  on_rack: DEFAULT_ON_RACK,
  installed_ttl_ms: DAY_MS,
  stale_carry: DEFAULT_STALE_CARRY,
};

export interface KpiEngineOptions {
  inventories: readonly SiteInventory[];
  profiles: ReadonlyMap<string, DeviceProfile>;
  clusters?: readonly Cluster[];
  config?: Partial<KpiEngineConfig>;
}

/** What one poll contributed. */
export interface IngestResult {
  /** Readings the engine used (energy, power, accelerator and CPU points). */
  used: number;
  /** Readings of points no KPI needs, and `bad` readings. */
  ignored: number;
  /** Readings refused: not a finite non-negative number, text where a number belongs, wrong unit. */
  invalid: number;
  /** Readings older than the meter's newest, placed into a gap (replayed backlog). */
  late: number;
  /** Late readings inside an ordinary step: nothing to change. */
  absorbed: number;
  duplicate: number;
}

/** A local day restored from the store: each meter group's day sum and, when known, the day's occupancy. */
export interface RestoredDay {
  /** Local day number (the site calendar's `dayNumber`). */
  day: number;
  groups: Record<MeterGroup, BucketSum>;
  occupancy?: OccupancyDay;
}

/** A KPI value to store: the scope it belongs to and the value (stamped at its window end). */
export interface ClosedKpi {
  scope: 'site' | 'cluster';
  id: string;
  value: KpiValue;
}

export interface KpiEngineStats {
  polls: number;
  polls_unknown: number;
  readings_used: number;
  readings_ignored: number;
  readings_invalid: number;
  readings_late: number;
  readings_absorbed: number;
  readings_duplicate: number;
  /** Power polls of table points refused because some rows were missing or bad. */
  power_polls_incomplete: number;
  /** Energy readings after a restore older than the replay of a meter it primed: not placed (see `endRestore`). */
  readings_before_restore: number;
  /** Energy pieces older than the buckets keep. */
  pieces_too_old: number;
  rollovers: number;
  resets: number;
  spikes: number;
  /** Bytes held in bucket arrays. */
  bucket_bytes: number;
}

interface SiteState {
  model: SiteModel;
  groups: Record<MeterGroup, EnergyBuckets>;
  racks: Map<string, EnergyBuckets>;
  ledgers: Map<string, MeterLedger>;
  power: Map<string, LatestValue>;
  rows: Map<string, number>;
  gpus: Map<string, UnitSeen>;
  cpus: Map<string, UnitSeen>;
  /** Rack writes per local day: invalidates the occupancy cache of that day. */
  dayWrites: Map<number, number>;
  occupancyCache: Map<number, { writes: number; day: OccupancyDay }>;
  finalized: Map<number, OccupancyDay>;
  nextToFinalize: number | undefined;
  newestQuarter: number;
  /** The site as a KPI source, built at first use. */
  source?: SiteSource;
  /** Earliest quarter hour written since the last `takeClosed` (late data), ms; Infinity when none. */
  dirtyFrom: number;
  /** The same since the last `takeChangedFrom` of the site's source (the summary tracker's own watermark). */
  changedFrom: number;
  /** Set by a restore: where the replay of stored readings began. */
  restoredFrom?: number;
  /** The meters by last reading time, for substitution; rebuilt after any ledger moved. */
  byLastReading: LastReading[] | undefined;
}

/** A meter's last reading and rate: past its last reading, a window is filled at that rate. */
interface LastReading {
  ts: number;
  rate_kw: number;
  group: MeterGroup;
}

function numberOf(v: Reading['value']): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  // Counter64 travels as a decimal string (docs/design.md §2); above 2^53 it loses the last digits.
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(v);
  return undefined;
}

function kwhOf(r: Reading): number | undefined {
  const v = numberOf(r.value);
  if (v === undefined || v < 0) return undefined;
  if (r.unit === undefined || r.unit === 'kWh') return v;
  if (r.unit === 'Wh') return v / 1000;
  return undefined;
}

function wattsOf(r: Reading): number | undefined {
  const v = numberOf(r.value);
  if (v === undefined || v < 0) return undefined;
  if (r.unit === undefined || r.unit === 'W') return v;
  if (r.unit === 'kW') return v * 1000;
  return undefined;
}

export class KpiEngine {
  private readonly counters: Omit<KpiEngineStats, 'rollovers' | 'resets' | 'spikes' | 'pieces_too_old' | 'bucket_bytes'> = {
    polls: 0,
    polls_unknown: 0,
    readings_used: 0,
    readings_ignored: 0,
    readings_invalid: 0,
    readings_late: 0,
    readings_absorbed: 0,
    readings_duplicate: 0,
    power_polls_incomplete: 0,
    readings_before_restore: 0,
  };

  /** Last value handed out per (scope, id, kpi, window, basis, window end), for `takeClosed`. */
  private readonly emitted = new Map<string, string>();
  /** The edge `emitted` was last pruned at. */
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sites: ReadonlyMap<string, SiteState>,
    private readonly clusters: ReadonlyMap<string, Cluster>,
    private readonly config: KpiEngineConfig,
  ) {}

  /** Builds every site's model and buckets; a bad time zone is a DCIM_E_CONFIG_INVALID naming the site. */
  static create(opts: KpiEngineOptions): KpiEngine {
    const config: KpiEngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...opts.config, on_rack: { ...DEFAULT_ON_RACK, ...opts.config?.on_rack }, stale_carry: { ...DEFAULT_STALE_CARRY, ...opts.config?.stale_carry } };
    const problems: string[] = [];
    const sites = new Map<string, SiteState>();
    for (const inv of opts.inventories) {
      if (sites.has(inv.site.id)) {
        problems.push(`site ${inv.site.id}: given twice`);
        continue;
      }
      try {
        sites.set(inv.site.id, KpiEngine.siteState(buildSiteModel(inv, opts.profiles, config.on_rack), config));
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        problems.push(`site ${inv.site.id}: site.timezone: ${e.message}`);
      }
    }
    const clusters = new Map<string, Cluster>();
    for (const c of opts.clusters ?? []) {
      if (clusters.has(c.id)) problems.push(`cluster ${c.id}: given twice`);
      clusters.set(c.id, c);
    }
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', 'KPI engine: invalid sites or clusters', problems);
    return new KpiEngine(sites, clusters, config);
  }

  private static siteState(model: SiteModel, config: KpiEngineConfig): SiteState {
    const quarter_capacity = (config.late_days + 2) * 96;
    const dayWrites = new Map<number, number>();
    const state = { dirtyFrom: Number.POSITIVE_INFINITY, changedFrom: Number.POSITIVE_INFINITY };
    const dirty = (qs: number) => {
      if (qs < state.dirtyFrom) state.dirtyFrom = qs;
      if (qs < state.changedFrom) state.changedFrom = qs;
    };
    const groups = Object.fromEntries(
      METER_GROUPS.map((g) => [g, new EnergyBuckets({ calendar: model.calendar, quarter_capacity, day_capacity: config.day_retention, on_write: dirty })]),
    ) as Record<MeterGroup, EnergyBuckets>;
    const racks = new Map<string, EnergyBuckets>();
    const rackWrite = (qs: number, day: number) => {
      dirty(qs);
      dayWrites.set(day, (dayWrites.get(day) ?? 0) + 1);
    };
    for (const r of model.racks) {
      if (r.meters.length === 0) continue;
      racks.set(r.rack.id, new EnergyBuckets({ calendar: model.calendar, quarter_capacity, day_capacity: 0, on_write: rackWrite }));
    }
    const ledgers = new Map<string, MeterLedger>();
    for (const m of model.meters.values()) {
      if (!m.energy) continue;
      const sinks = [...(m.group ? [groups[m.group]] : []), ...(m.rack !== undefined && racks.has(m.rack) ? [racks.get(m.rack)!] : [])];
      if (sinks.length === 0) continue;
      ledgers.set(
        m.device,
        new MeterLedger({
          mode: m.energy.mode,
          interval_ms: m.interval_s * 1000,
          modulus_kwh: m.energy.mode === 'counter' ? m.energy.modulus_kwh : undefined,
          resolution: m.energy.mode === 'counter' ? m.energy.resolution : undefined,
          power_assist: m.energy.mode === 'counter' && m.energy.power_assist,
          rated_kw: m.rated_kw,
          sinks,
        }),
      );
    }
    return Object.assign(state, {
      model,
      groups,
      racks,
      ledgers,
      power: new Map(),
      rows: new Map(),
      gpus: new Map(),
      cpus: new Map(),
      dayWrites,
      occupancyCache: new Map(),
      finalized: new Map(),
      nextToFinalize: undefined,
      newestQuarter: -1,
      byLastReading: undefined,
    });
  }

  get siteIds(): string[] {
    return [...this.sites.keys()];
  }

  get clusterIds(): string[] {
    return [...this.clusters.keys()];
  }

  /** How long after a quarter hour the engine treats it as complete. */
  get settle_ms(): number {
    return this.config.settle_ms;
  }

  /** A decoded, deduplicated telemetry message: `ingest` with its site, device, ts and readings. */
  ingestMessage(m: Pick<TelemetryMessage, 'site' | 'device' | 'ts' | 'readings'>): IngestResult {
    return this.ingest(m.site, m.device, m.ts, m.readings);
  }

  /**
   * One poll of one device: a telemetry message's `ts` (poll start) and readings, after dedup.
   * The whole poll is needed: a table KPI point (UPS output power per line) is the sum of its rows.
   */
  ingest(site: string, device: string, ts_ms: number, readings: readonly Reading[]): IngestResult {
    const res: IngestResult = { used: 0, ignored: 0, invalid: 0, late: 0, absorbed: 0, duplicate: 0 };
    const st = this.sites.get(site);
    this.counters.polls++;
    if (!st || !Number.isFinite(ts_ms) || ts_ms <= 0) {
      this.counters.polls_unknown++;
      res.ignored = readings.length;
      this.count(res);
      return res;
    }
    const meter = st.model.meters.get(device);
    const comp = st.model.compute.get(device);
    let powerW = 0;
    let powerRows = 0;
    let powerBad = false;
    let powerUncertain = false;
    for (const r of readings) {
      if (r.quality === 'bad' || r.value === null) {
        if (meter && r.point === meter.power_point) powerBad = true;
        res.ignored++;
        continue;
      }
      if (meter?.energy?.mode === 'counter' && r.point === meter.energy.point && r.index === undefined) {
        const kwh = kwhOf(r);
        if (kwh === undefined) res.invalid++;
        else this.sample(st, meter, ts_ms, kwh, res, true);
        continue;
      }
      if (meter && r.point === meter.power_point && (r.index !== undefined) === meter.power_table) {
        const w = wattsOf(r);
        if (w === undefined) {
          res.invalid++;
          powerBad = true;
        } else {
          powerW += w;
          powerRows++;
          if (r.quality === 'uncertain') powerUncertain = true;
          res.used++;
        }
        continue;
      }
      if (comp && this.computeReading(st, comp.device, comp, r, ts_ms, res)) continue;
      res.ignored++;
    }
    if (meter && powerRows > 0) this.power(st, meter, ts_ms, powerW, powerRows, powerBad, powerUncertain, res);
    const q = Math.floor(ts_ms / QUARTER_MS);
    if (q > st.newestQuarter) {
      st.newestQuarter = q;
      this.finalizeDays(st);
    }
    this.count(res);
    return res;
  }

  private count(res: IngestResult): void {
    const c = this.counters;
    c.readings_used += res.used;
    c.readings_ignored += res.ignored;
    c.readings_invalid += res.invalid;
    c.readings_late += res.late;
    c.readings_absorbed += res.absorbed;
    c.readings_duplicate += res.duplicate;
  }

  /** Feeds one reading to the meter's ledger; `used` counts only when it is in order. */
  private sample(st: SiteState, meter: MeterBinding, ts: number, v: number, res: IngestResult, countUsed: boolean): void {
    const ledger = st.ledgers.get(meter.device);
    if (!ledger) {
      if (countUsed) res.ignored++;
      return;
    }
    // After a restore, a reading older than the replay for a meter the replay primed would book the
    // span up to the meter's first replayed reading into seeded days, which hold that energy already.
    const first = ledger.first_ts;
    if (st.restoredFrom !== undefined && ts < st.restoredFrom && first !== undefined && first >= st.restoredFrom) {
      this.counters.readings_before_restore++;
      res.absorbed++;
      return;
    }
    const o = ledger.sample(ts, v);
    st.byLastReading = undefined;
    if (o === 'applied') {
      if (countUsed) res.used++;
    } else if (o === 'late_applied') res.late++;
    else if (o === 'absorbed') res.absorbed++;
    else res.duplicate++;
  }

  private power(st: SiteState, meter: MeterBinding, ts: number, w: number, rows: number, bad: boolean, uncertain: boolean, res: IngestResult): void {
    if (meter.power_table) {
      // Rows that went missing would make the sum too small: refuse the whole poll instead.
      const expected = Math.max(rows, st.rows.get(meter.device) ?? 0);
      st.rows.set(meter.device, expected);
      if (bad || rows < expected) {
        this.counters.power_polls_incomplete++;
        return;
      }
    } else if (bad) {
      return;
    }
    const prev = st.power.get(meter.device);
    if (!prev || prev.ts_ms <= ts) st.power.set(meter.device, { value: w, unit: 'W', quality: uncertain ? 'uncertain' : 'good', ts_ms: ts });
    // The poll's power rows were counted as used; a late poll is also counted as late.
    if (meter.energy?.mode === 'power') this.sample(st, meter, ts, w, res, false);
    else if (meter.energy?.mode === 'counter') st.ledgers.get(meter.device)?.power(ts, w);
  }

  private computeReading(st: SiteState, device: string, comp: { gpu_model_point: string | undefined; gpu_util_point: string | undefined; cpu_model_point: string | undefined; interval_s: number }, r: Reading, ts: number, res: IngestResult): boolean {
    const gpu = r.index?.gpu;
    const cpu = r.index?.cpu;
    const stale = staleAfterMs(comp.interval_s);
    const unit = (map: Map<string, UnitSeen>, key: string): UnitSeen => {
      let u = map.get(key);
      if (!u) map.set(key, (u = { model: undefined, model_ts: 0, stale_after_ms: stale }));
      return u;
    };
    if (r.point === comp.gpu_model_point && gpu !== undefined) {
      if (typeof r.value !== 'string' || r.value.trim() === '') return this.invalid(res);
      const u = unit(st.gpus, `${device}/${gpu}`);
      if (ts >= u.model_ts) Object.assign(u, { model: r.value.trim(), model_ts: ts });
      res.used++;
      return true;
    }
    if (r.point === comp.gpu_util_point && gpu !== undefined) {
      const v = numberOf(r.value);
      if (v === undefined || v < 0 || v > 100) return this.invalid(res);
      const u = unit(st.gpus, `${device}/${gpu}`);
      if (u.utilisation_ts === undefined || ts >= u.utilisation_ts) Object.assign(u, { utilisation_pct: v, utilisation_ts: ts });
      res.used++;
      return true;
    }
    if (r.point === comp.cpu_model_point && cpu !== undefined) {
      if (typeof r.value !== 'string' || r.value.trim() === '') return this.invalid(res);
      const u = unit(st.cpus, `${device}/${cpu}`);
      if (ts >= u.model_ts) Object.assign(u, { model: r.value.trim(), model_ts: ts });
      res.used++;
      return true;
    }
    return false;
  }

  private invalid(res: IngestResult): true {
    res.invalid++;
    return true;
  }

  /** Latest power per meter (table points summed), for the live KPIs. */
  private latestLookup(st: SiteState): LatestLookup {
    return { get: (_site, device) => st.power.get(device) };
  }

  // ---------------------------------------------------------------- restoring history

  /**
   * Restoring a site's history at start, before anything is ingested: the local days before
   * `horizon_ms` (a local midnight) are set from stored day sums and occupancy, and until
   * `endRestore` energy booked before the horizon is ignored, so the raw readings replayed from a
   * little before it (to prime each meter's ledger) add only to the days after it. Days the day
   * ring no longer holds are refused. Returns the days seeded and refused.
   */
  beginRestore(site: string, horizon_ms: number, days: readonly RestoredDay[]): { seeded: number; refused: number } {
    const st = this.sites.get(site);
    if (!st) return { seeded: 0, refused: days.length };
    if (st.newestQuarter >= 0) throw new Error(`restore of site ${site} after data was ingested`);
    const horizonDay = st.model.calendar.dayNumber(horizon_ms);
    for (const b of [...Object.values(st.groups), ...st.racks.values()]) b.ignoreBefore(horizon_ms);
    let seeded = 0;
    let refused = 0;
    for (const d of [...days].sort((a, b) => a.day - b.day)) {
      if (d.day >= horizonDay || !METER_GROUPS.every((g) => st.groups[g].seedDay(d.day, d.groups[g]))) {
        refused++;
        continue;
      }
      if (d.occupancy) st.finalized.set(d.day, d.occupancy);
      seeded++;
    }
    // Days before the horizon are final as restored: the replay must not judge them again from rack quarter hours it never wrote.
    st.nextToFinalize = horizonDay;
    return { seeded, refused };
  }

  /**
   * Ends the restore: late data for the restored days counts again, as it would have without a
   * restart — except, for a meter with readings in the replay, readings older than `replay_from_ms`
   * (the ledger cannot tell what the seeded days already hold for it; they are counted as
   * `readings_before_restore` and change nothing).
   */
  endRestore(site: string, replay_from_ms?: number): void {
    const st = this.sites.get(site);
    if (!st) return;
    if (replay_from_ms !== undefined) st.restoredFrom = replay_from_ms;
    for (const b of [...Object.values(st.groups), ...st.racks.values()]) b.ignoreBefore(Number.NEGATIVE_INFINITY);
  }

  /** Days back late data still revises closed windows; days of daily energy kept. */
  get history(): { late_days: number; day_retention: number } {
    return { late_days: this.config.late_days, day_retention: this.config.day_retention };
  }

  /** How far before a horizon to replay readings so every meter's ledger has a previous sample: two of its longest poll interval. */
  primeMs(site: string): number {
    const st = this.sites.get(site);
    let longest = 0;
    for (const m of st?.model.meters.values() ?? []) if (m.energy && m.interval_s > longest) longest = m.interval_s;
    return 2 * longest * 1000;
  }

  // ---------------------------------------------------------------- evaluation

  /** Every KPI of the site at `now` (empty for an unknown site). */
  evaluate(site: string, now_ms: number): KpiValue[] {
    const st = this.sites.get(site);
    return st ? siteKpis(this.source(st), now_ms, this.config.settle_ms) : [];
  }

  /** The site as a KPI source (its group sums, occupancy days, compute, live figures); undefined for an unknown site. */
  siteSource(site: string): SiteSource | undefined {
    const st = this.sites.get(site);
    return st ? this.source(st) : undefined;
  }

  private source(st: SiteState): SiteSource {
    if (st.source) return st.source;
    const inv = st.model.inventory;
    st.source = {
      site: st.model.site,
      calendar: st.model.calendar,
      category: st.model.category,
      targets: inv.targets,
      rated_kw_available: st.model.racks.filter((r) => r.rack.status === 'available').reduce((s, r) => s + r.rack.rated_kw, 0),
      groupSums: (w) => this.groupSums(st, w),
      declared: (period) => declaredItems(inv, period),
      occupancyDay: (day) => this.occupancyDay(st, day),
      compute: (now_ms) => this.computeOf(st, now_ms),
      live: (now_ms) => this.liveValues(st, now_ms),
      takeChangedFrom: () => {
        const t = st.changedFrom;
        st.changedFrom = Number.POSITIVE_INFINITY;
        return t;
      },
    };
    return st.source;
  }

  /** Live PUE and live green share of a site, stale meters carried within `stale_carry`. */
  private liveValues(st: SiteState, now_ms: number): [KpiValue, KpiValue] {
    const carry = this.config.stale_carry;
    return [
      livePue(st.model.power, this.latestLookup(st), now_ms, { ...(st.model.it_level ? { it_level: st.model.it_level } : {}), stale_carry: carry }),
      liveGreenShare(st.model.power, this.latestLookup(st), now_ms, st.model.inventory.targets.green_share, carry),
    ];
  }

  private groupSums(st: SiteState, w: Pick<WindowBounds, 'start' | 'end'>): GroupSums {
    const sums = emptyGroupSums(st.model.group_declared);
    for (const g of METER_GROUPS) Object.assign(sums[g], st.groups[g].windowSum(w.start, w.end), { meters: st.model.group_declared[g], silent_tail_ms: 0, silent_tail_kwh: 0 });
    // A meter silent since before the window's end: the rest of the window at its last rate is the
    // first candidate for substitution (energyTotals decides whether the bound allows any).
    for (const m of this.byLastReading(st)) {
      if (m.ts >= w.end) break;
      const missing = w.end - Math.max(m.ts, w.start);
      const g = sums[m.group];
      g.silent_tail_ms! += missing;
      g.silent_tail_kwh! += (m.rate_kw * missing) / 3_600_000;
    }
    return sums;
  }

  /**
   * The metered devices by the time of their last reading, oldest first. An evaluation asks
   * for a dozen windows, each wanting only the meters silent since before its end: with them
   * sorted, each window reads just those (at 10,000 meters: a handful, not 10,000).
   */
  private byLastReading(st: SiteState): LastReading[] {
    if (st.byLastReading) return st.byLastReading;
    const out: LastReading[] = [];
    for (const [device, ledger] of st.ledgers) {
      const group = st.model.meters.get(device)?.group;
      const ts = ledger.last_ts;
      const rate_kw = ledger.last_rate_kw;
      if (group !== undefined && ts !== undefined && rate_kw !== undefined) out.push({ ts, rate_kw, group });
    }
    out.sort((a, b) => a.ts - b.ts);
    st.byLastReading = out;
    return out;
  }

  private computeOf(st: SiteState, now_ms: number): ComputeFigures {
    return computeFigures(st.gpus.values(), st.cpus.values(), now_ms, this.config.installed_ttl_ms);
  }

  /** Occupancy of local day `day`: finalized, cached, or judged from the racks' quarter hours. */
  private occupancyDay(st: SiteState, day: number): OccupancyDay {
    const done = st.finalized.get(day);
    if (done) return done;
    const writes = st.dayWrites.get(day) ?? 0;
    const cached = st.occupancyCache.get(day);
    if (cached && cached.writes === writes) return cached.day;
    const result = this.judgeDay(st, day);
    st.occupancyCache.set(day, { writes, day: result });
    if (st.occupancyCache.size > 64) st.occupancyCache.delete(st.occupancyCache.keys().next().value!);
    return result;
  }

  private judgeDay(st: SiteState, day: number): OccupancyDay {
    const cal = st.model.calendar;
    const start = cal.dayStart(day);
    const end = cal.dayStart(day + 1);
    const nQ = Math.round((end - start) / QUARTER_MS);
    const d: OccupancyDay = { start, end, racks_available: 0, racks_on: 0, racks_metered: 0, racks_reserved: 0, racks_planned: 0, rated_kw_available: 0, rated_kw_on: 0, coverage: 0 };
    let observed = 0;
    const quarters = new Array<ReturnType<EnergyBuckets['quarter']>>(nQ);
    for (const r of st.model.racks) {
      if (r.rack.status === 'reserved') d.racks_reserved++;
      if (r.rack.status === 'planned') d.racks_planned++;
      if (r.rack.status !== 'available') continue;
      d.racks_available++;
      d.rated_kw_available += r.rack.rated_kw;
      const buckets = st.racks.get(r.rack.id);
      if (!buckets) continue;
      d.racks_metered++;
      const q0 = start / QUARTER_MS;
      // Only the quarter hours the ring can hold are looked up: a day before the rack's first data
      // (most of the month after a start) needs none, today none after now.
      const held = buckets.heldQuarters(q0, q0 + nQ);
      if (held.lo >= held.hi) continue;
      for (let i = 0; i < nQ; i++) quarters[i] = q0 + i >= held.lo && q0 + i < held.hi ? buckets.quarter(q0 + i) : undefined;
      const j = judgeRackDay(quarters, r.meters.length, r.threshold_kw, this.config.on_rack.day_ratio);
      observed += j.observed;
      if (j.on) {
        d.racks_on++;
        d.rated_kw_on += r.rack.rated_kw;
      }
    }
    d.coverage = d.racks_metered > 0 ? observed / (d.racks_metered * nQ) : 0;
    return d;
  }

  /**
   * Days older than the late window are judged once and kept (their rack quarter hours are about
   * to leave the ring); late data for them still reaches the daily energy buckets.
   */
  private finalizeDays(st: SiteState): void {
    const cal = st.model.calendar;
    const limit = st.newestQuarter * QUARTER_MS - this.config.late_days * DAY_MS;
    if (st.nextToFinalize === undefined) st.nextToFinalize = cal.dayNumber(st.newestQuarter * QUARTER_MS);
    while (cal.dayStart(st.nextToFinalize + 1) <= limit) {
      const d = st.nextToFinalize;
      st.finalized.set(d, this.judgeDay(st, d));
      st.occupancyCache.delete(d);
      st.dayWrites.delete(d);
      st.finalized.delete(d - this.config.day_retention);
      st.nextToFinalize++;
    }
  }

  /**
   * The KPI values to store at `now`: every windowed value (not `instant`) of every site and
   * cluster that is new or changed since the last call — a window seen for the first time, or one
   * whose value, quality or coverage moved. Late data (a backlog replayed after an outage, a
   * counter that comes back after a gap) also re-evaluates the past 15-minute, hourly and daily
   * windows it touched, up to `late_days` back; month and year figures are re-emitted at the
   * current edge only (their earlier to-date points stay as they were: `dcim kpi recompute`
   * rewrites history).
   */
  takeClosed(now_ms: number): ClosedKpi[] {
    const out: ClosedKpi[] = [];
    const emit = (scope: ClosedKpi['scope'], id: string, v: KpiValue) => {
      if (v.window === 'instant') return;
      const key = `${scope}|${id}|${kpiKey(v)}|${v.window_end}`;
      const sig = `${v.ok}|${v.value}|${v.quality}|${v.coverage}|${v.status}`;
      if (this.emitted.get(key) === sig) return;
      this.emitted.set(key, sig);
      out.push({ scope, id, value: v });
    };
    const edge = settledEdge(now_ms, this.config.settle_ms);
    for (const [id, st] of this.sites) {
      if (st.dirtyFrom < edge - QUARTER_MS) for (const v of pastWindowKpis(this.source(st), st.dirtyFrom, edge, this.config.late_days)) emit('site', id, v);
      st.dirtyFrom = Number.POSITIVE_INFINITY;
      for (const v of this.evaluate(id, now_ms)) emit('site', id, v);
    }
    for (const id of this.clusters.keys()) for (const v of this.evaluateCluster(id, now_ms)) emit('cluster', id, v);
    this.pruneEmitted(edge);
    return out;
  }

  /**
   * Forgets, once a day, the signatures of windows that ended before the late horizon (no late
   * data re-evaluates them), so the map holds days of windows whatever the time replayed: pruned
   * only at a size, a recompute of months held up to 100,000 of them. Each series keeps its newest
   * window, which evaluation may still produce (the last calendar year's `1y` ends up to a year ago)
   * and must not be emitted again.
   */
  private pruneEmitted(edge: number): void {
    if (edge < this.prunedAt + DAY_MS) return;
    this.prunedAt = edge;
    const keep = edge - (this.config.late_days + 2) * DAY_MS;
    const newest = new Map<string, number>();
    const split = (key: string): [string, number] => {
      const i = key.lastIndexOf('|');
      return [key.slice(0, i), Number(key.slice(i + 1))];
    };
    for (const key of this.emitted.keys()) {
      const [series, end] = split(key);
      if (end > (newest.get(series) ?? Number.NEGATIVE_INFINITY)) newest.set(series, end);
    }
    for (const key of this.emitted.keys()) {
      const [series, end] = split(key);
      if (end < keep && end < newest.get(series)!) this.emitted.delete(key);
    }
  }

  /**
   * What the engine holds that is not fixed at construction (the bucket rings are): the signatures
   * `takeClosed` remembers, the occupancy days judged and kept (one per local day, up to
   * `day_retention`), the occupancy cache, the rack-write counts per open day, and the
   * accelerators and CPUs seen. A structural count for tests and benchmarks, not bytes.
   */
  heldState(): { signatures: number; occupancy_days: number; occupancy_cached: number; open_days: number; units: number } {
    let occupancy_days = 0;
    let occupancy_cached = 0;
    let open_days = 0;
    let units = 0;
    for (const st of this.sites.values()) {
      occupancy_days += st.finalized.size;
      occupancy_cached += st.occupancyCache.size;
      open_days += st.dayWrites.size;
      units += st.gpus.size + st.cpus.size;
    }
    return { signatures: this.emitted.size, occupancy_days, occupancy_cached, open_days, units };
  }

  // ---------------------------------------------------------------- clusters

  /** Every cluster KPI at `now`, energy-weighted (pooled) and mean of sites (empty for an unknown cluster). */
  evaluateCluster(clusterId: string, now_ms: number): KpiValue[] {
    const c = this.clusters.get(clusterId);
    if (!c) return [];
    const hosted = c.sites.map((s) => this.sites.get(s)).filter((s): s is SiteState => s !== undefined);
    const absent = c.sites.filter((s) => !this.sites.has(s));
    return clusterKpis(c, hosted.map((st) => this.source(st)), absent, now_ms, this.config.settle_ms);
  }

  stats(): KpiEngineStats {
    let rollovers = 0;
    let resets = 0;
    let spikes = 0;
    let pieces = 0;
    let bytes = 0;
    for (const st of this.sites.values()) {
      for (const l of st.ledgers.values()) {
        rollovers += l.events.rollovers;
        resets += l.events.resets;
        spikes += l.events.spikes;
      }
      for (const b of [...Object.values(st.groups), ...st.racks.values()]) {
        pieces += b.dropped_pieces;
        bytes += b.bytes;
      }
    }
    return { ...this.counters, rollovers, resets, spikes, pieces_too_old: pieces, bucket_bytes: bytes };
  }

  /** Ledger events per meter (resets, rollovers, spikes) and its newest reading: counter-reset alerts, diagnostics. */
  meterEvents(site: string): Record<string, { rollovers: number; resets: number; spikes: number; last_ts_ms: number | undefined }> {
    const st = this.sites.get(site);
    const out: Record<string, { rollovers: number; resets: number; spikes: number; last_ts_ms: number | undefined }> = {};
    if (!st) return out;
    for (const [device, l] of st.ledgers) out[device] = { ...l.events, last_ts_ms: l.last_ts };
    return out;
  }
}

