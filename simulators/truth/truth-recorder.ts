import { IT_LEVEL_CATEGORY, type ItLevel, type SiteInventory } from '../../contract/index.js';
import { zoneTimeIn } from '../model/local-time.js';
import { pueItLevel } from '../model/site-plan.js';
import type { SiteLive } from '../model/site.js';
import { QUARTER_MS, dayOf, hourOf, localDate, monthOf, quarterOf, yearOf, type WindowBounds, type ZoneFn } from './windows.js';

/**
 * Ground truth of a simulated site: what a perfect pipeline would compute from the site's
 * meters, using the meters' TRUE power and energy (a counter fault in the serving layer does
 * not change it). Sums follow docs/design.md §4–5 exactly: facility = Σ facility_in + Σ green_feed
 * − Σ export + Σ green_onsite behind the meter; IT = Σ it meters at the site's PUE level; PUE
 * per window = ratio of energy sums; occupancy per local day; green share with certificates.
 *
 * Memory stays bounded at any scale: per site one record per 15-minute bucket (typed arrays,
 * `retention_days`), per rack one on-time counter for the current day, per device only the
 * last `device_window` served states (a ring of typed arrays) for `truth(ts)`.
 */

/** What the recorder reads from the model (SiteModel implements it; tests script it). */
export interface TruthSource {
  readonly deviceIds: readonly string[];
  deviceIndex(id: string): number;
  truePowerW(i: number): number;
  trueEnergyKwh(i: number): number;
  siteLive(): Pick<SiteLive, 'sim_ts' | 'outdoor_temp_c' | 'wet_bulb_c'>;
}

export interface TruthRecorderOptions {
  model: TruthSource;
  inventory: SiteInventory;
  /** Served states kept per device for truth(ts); default 128 (≈15 MB at 10,000 devices). */
  device_window?: number;
  /** Days of 15-minute buckets and occupancy days kept; default 400. */
  retention_days?: number;
  /** On-rack rule (docs/design.md §5): IT power ≥ max(min_kw, min_ratio × rated) for ≥ day_ratio of the day. */
  on_rack?: { min_kw: number; min_ratio: number; day_ratio: number };
}

export interface TruthWindow {
  window: '15m' | '1h' | '1d';
  window_start: number;
  window_end: number;
  facility_kwh: number;
  it_kwh: number;
  cooling_kwh: number;
  green_onsite_kwh: number;
  green_feed_kwh: number;
  /** ΣE_facility / ΣE_IT; null without IT energy. */
  pue: number | null;
  /** Share of the window the simulator was recording (1 = complete). */
  coverage_ratio: number;
}

export interface OccupancyDay {
  date: string;
  window_start: number;
  window_end: number;
  racks_available: number;
  racks_on: number;
  /** racks_on / racks_available (上架率). */
  occupancy_ratio: number | null;
  it_kwh: number;
  rated_kw: number;
  /** E_IT / (hours × Σ rated_kw of available racks). */
  utilisation_ratio: number | null;
  coverage_ratio: number;
}

export interface GreenWindow {
  window: '1mo' | '1y';
  period: string;
  window_start: number;
  window_end: number;
  facility_kwh: number;
  green_onsite_kwh: number;
  green_feed_kwh: number;
  certificate_kwh: number;
  /** min(1, (E_green_onsite + E_green_feed + certificates) / E_facility); null without facility energy. */
  green_share_ratio: number | null;
  coverage_ratio: number;
}

export interface DeviceTruth {
  power_w: number;
  /** True energy; the counter on the wire may differ under a counter fault. */
  energy_kwh: number;
}

export interface SiteTruth {
  schema: 1;
  site: string;
  timezone: string;
  cluster: string | null;
  /** Real time at which the returned state started being served. */
  ts: number;
  sim_ts: number;
  pue_it_level: ItLevel | null;
  category: 1 | 2 | 3 | null;
  live: {
    facility_power_w: number;
    it_power_w: number;
    cooling_power_w: number;
    green_onsite_power_w: number;
    green_feed_power_w: number;
    pue: number | null;
    /** On-site generation / facility power: the live green share (certificates are not live). */
    green_share_onsite_ratio: number | null;
    outdoor_temp_c: number;
    wet_bulb_c: number;
  };
  /** Energy since the recording started. */
  energy_kwh: { facility: number; it: number; cooling: number; green_onsite: number; green_feed: number };
  windows: { '15m': TruthWindow[]; '1h': TruthWindow[]; '1d': TruthWindow[] };
  occupancy: OccupancyDay[];
  green_share: { '1mo': GreenWindow[]; '1y': GreenWindow[] };
  devices: Record<string, DeviceTruth>;
}

export interface TruthQuery {
  /** Most recent windows returned per kind; default 15m: 96, 1h: 48, 1d: 35, days of occupancy: 35, months: 13, years: 2. */
  limit?: Partial<Record<'15m' | '1h' | '1d' | 'occupancy' | '1mo' | '1y', number>>;
  /** Leave the per-device map out (large sites). Default true. */
  devices?: boolean;
}

/** Bucket fields, in order. */
const F_FACILITY = 0;
const F_IT = 1;
const F_COOLING = 2;
const F_GREEN_ONSITE = 3;
const F_GREEN_FEED = 4;
const F_COVERED_MS = 5;
const NF = 6;
/** Live values kept per served state. */
const L_FACILITY = 0;
const L_IT = 1;
const L_COOLING = 2;
const L_GREEN_ONSITE = 3;
const L_GREEN_FEED = 4;
const L_OUTDOOR = 5;
const L_WET_BULB = 6;
const L_SIM_TS = 7;
const NL = 8;

export class TruthRecorder {
  private readonly model: TruthSource;
  private readonly zone: ZoneFn;
  private readonly level: ItLevel | undefined;
  private readonly nD: number;
  // Device index lists per sum (signed: export counts negative).
  private readonly facilityIdx: Int32Array;
  private readonly facilitySign: Float64Array;
  private readonly itIdx: Int32Array;
  private readonly coolingIdx: Int32Array;
  private readonly greenOnsiteIdx: Int32Array;
  private readonly greenFeedIdx: Int32Array;
  // Racks: available inventory racks, their threshold, and their IT meters (CSR).
  private readonly rackIds: string[];
  private readonly rackThresholdW: Float64Array;
  private readonly rackRatedKw: number;
  private readonly rackStart: Int32Array;
  private readonly rackDevices: Int32Array;
  private readonly rackPrevW: Float64Array;
  private readonly rackOnMs: Float64Array;
  private readonly onRack: { min_kw: number; min_ratio: number; day_ratio: number };
  private readonly certificates: Map<string, number>;
  // 15-minute buckets: a ring indexed by (bucket number mod capacity).
  private readonly bucketCap: number;
  private readonly buckets: Float64Array;
  private readonly bucketNo: Float64Array;
  // Served states.
  private readonly ringCap: number;
  private readonly ringTs: Float64Array;
  // Power to float32 precision (7 digits) is plenty; energy counters need float64.
  private readonly ringPower: Float32Array;
  private readonly ringEnergy: Float64Array;
  private readonly ringLive: Float64Array;
  private ringHead = 0;
  private ringSize = 0;
  // Running sums.
  private prevTs = Number.NaN;
  private firstTs = Number.NaN;
  private readonly prevEnergy = new Float64Array(5);
  private readonly firstEnergy = new Float64Array(5);
  private day: WindowBounds = { start: 0, end: 0 };
  private dayObservedMs = 0;
  private readonly days: OccupancyDay[] = [];
  private readonly retentionDays: number;

  constructor(private readonly opts: TruthRecorderOptions) {
    const { model, inventory } = opts;
    this.model = model;
    this.zone = zoneTimeIn(inventory.site.timezone);
    this.level = pueItLevel(inventory);
    this.nD = model.deviceIds.length;
    this.onRack = opts.on_rack ?? { min_kw: 0.3, min_ratio: 0.1, day_ratio: 0.5 };
    this.retentionDays = opts.retention_days ?? 400;

    const fac: number[] = [];
    const sign: number[] = [];
    const it: number[] = [];
    const cool: number[] = [];
    const gOn: number[] = [];
    const gFeed: number[] = [];
    for (const d of inventory.devices) {
      const i = model.deviceIndex(d.id);
      const m = d.meter;
      if (i < 0 || !m) continue;
      const facilitySign = m.role === 'facility_in' || m.role === 'green_feed' || (m.role === 'green_onsite' && m.behind_meter) ? 1 : m.role === 'export' ? -1 : 0;
      if (facilitySign !== 0) {
        fac.push(i);
        sign.push(facilitySign);
      }
      if (m.role === 'it' && m.level === this.level) it.push(i);
      if (m.role === 'cooling') cool.push(i);
      if (m.role === 'green_onsite') gOn.push(i);
      if (m.role === 'green_feed') gFeed.push(i);
    }
    this.facilityIdx = Int32Array.from(fac);
    this.facilitySign = Float64Array.from(sign);
    this.itIdx = Int32Array.from(it);
    this.coolingIdx = Int32Array.from(cool);
    this.greenOnsiteIdx = Int32Array.from(gOn);
    this.greenFeedIdx = Int32Array.from(gFeed);

    // Each available rack's IT power: its IT meters at the PUE level, else at the level it has.
    const racks = inventory.racks.filter((r) => r.status === 'available');
    this.rackIds = racks.map((r) => r.id);
    this.rackThresholdW = Float64Array.from(racks, (r) => 1000 * Math.max(this.onRack.min_kw, this.onRack.min_ratio * r.rated_kw));
    this.rackRatedKw = racks.reduce((a, r) => a + r.rated_kw, 0);
    const byRack = new Map<string, { level: ItLevel; i: number }[]>();
    for (const d of inventory.devices) {
      const i = model.deviceIndex(d.id);
      if (i < 0 || d.rack === undefined || d.meter?.role !== 'it' || d.meter.level === undefined) continue;
      const list = byRack.get(d.rack) ?? [];
      list.push({ level: d.meter.level, i });
      byRack.set(d.rack, list);
    }
    const start: number[] = [0];
    const flat: number[] = [];
    for (const r of racks) {
      const list = byRack.get(r.id) ?? [];
      const chosen = list.some((x) => x.level === this.level) ? this.level : (['ups_out', 'pdu_out', 'it_in'] as const).find((l) => list.some((x) => x.level === l));
      for (const x of list) if (x.level === chosen) flat.push(x.i);
      start.push(flat.length);
    }
    this.rackStart = Int32Array.from(start);
    this.rackDevices = Int32Array.from(flat);
    this.rackPrevW = new Float64Array(racks.length);
    this.rackOnMs = new Float64Array(racks.length);

    this.certificates = new Map();
    for (const c of inventory.green_certificates) this.certificates.set(c.period, (this.certificates.get(c.period) ?? 0) + c.certificates);

    this.bucketCap = Math.ceil((this.retentionDays * 86_400_000) / QUARTER_MS);
    this.buckets = new Float64Array(this.bucketCap * NF);
    this.bucketNo = new Float64Array(this.bucketCap).fill(-1);
    this.ringCap = Math.max(2, opts.device_window ?? 128);
    this.ringTs = new Float64Array(this.ringCap);
    this.ringPower = new Float32Array(this.ringCap * this.nD);
    this.ringEnergy = new Float64Array(this.ringCap * this.nD);
    this.ringLive = new Float64Array(this.ringCap * NL);
  }

  /**
   * Record the model's current state as served from real time `ts` on. Energy between the
   * previous record and this one is spread evenly over that interval into the 15-minute
   * buckets; the rack powers of the previous record count for its occupancy.
   */
  record(ts: number): void {
    if (ts < this.prevTs) throw new RangeError(`truth: ts ${ts} is before the last record ${this.prevTs}`);
    const m = this.model;
    const e = [this.sum(this.facilityIdx, this.facilitySign, true), this.sum(this.itIdx, undefined, true), this.sum(this.coolingIdx, undefined, true), this.sum(this.greenOnsiteIdx, undefined, true), this.sum(this.greenFeedIdx, undefined, true)];
    if (Number.isNaN(this.prevTs)) {
      this.firstEnergy.set(e);
      this.firstTs = ts;
      this.day = dayOf(this.zone, ts);
    } else {
      this.spread(this.prevTs, ts, e);
      this.occupancy(this.prevTs, ts);
    }
    this.prevEnergy.set(e);
    this.prevTs = ts;
    for (let r = 0; r < this.rackIds.length; r++) {
      let w = 0;
      for (let k = this.rackStart[r]!; k < this.rackStart[r + 1]!; k++) w += m.truePowerW(this.rackDevices[k]!);
      this.rackPrevW[r] = w;
    }

    // The served state, for truth(ts).
    const slot = (this.ringHead + this.ringSize) % this.ringCap;
    if (this.ringSize < this.ringCap) this.ringSize++;
    else this.ringHead = (this.ringHead + 1) % this.ringCap;
    this.ringTs[slot] = ts;
    const base = slot * this.nD;
    for (let i = 0; i < this.nD; i++) {
      this.ringPower[base + i] = m.truePowerW(i);
      this.ringEnergy[base + i] = m.trueEnergyKwh(i);
    }
    const live = m.siteLive();
    const l = slot * NL;
    this.ringLive[l + L_FACILITY] = this.sum(this.facilityIdx, this.facilitySign, false);
    this.ringLive[l + L_IT] = this.sum(this.itIdx, undefined, false);
    this.ringLive[l + L_COOLING] = this.sum(this.coolingIdx, undefined, false);
    this.ringLive[l + L_GREEN_ONSITE] = this.sum(this.greenOnsiteIdx, undefined, false);
    this.ringLive[l + L_GREEN_FEED] = this.sum(this.greenFeedIdx, undefined, false);
    this.ringLive[l + L_OUTDOOR] = live.outdoor_temp_c;
    this.ringLive[l + L_WET_BULB] = live.wet_bulb_c;
    this.ringLive[l + L_SIM_TS] = live.sim_ts;
  }

  /** The truth as served at real time `ts` (default: the newest record). */
  truth(ts?: number, query: TruthQuery = {}): SiteTruth {
    if (this.ringSize === 0) throw new RangeError('truth: nothing recorded yet');
    const slot = this.slotAt(ts ?? this.prevTs);
    if (slot < 0) {
      const oldest = this.ringTs[this.ringHead]!;
      throw new RangeError(`truth: no served state at ts ${ts}; per-device history covers ${oldest} to ${this.prevTs}`);
    }
    const inv = this.opts.inventory;
    const l = slot * NL;
    const fac = this.ringLive[l + L_FACILITY]!;
    const it = this.ringLive[l + L_IT]!;
    const limit = { '15m': 96, '1h': 48, '1d': 35, occupancy: 35, '1mo': 13, '1y': 2, ...query.limit };
    const devices: Record<string, DeviceTruth> = {};
    if (query.devices !== false) {
      const base = slot * this.nD;
      this.model.deviceIds.forEach((id, i) => {
        devices[id] = { power_w: this.ringPower[base + i]!, energy_kwh: this.ringEnergy[base + i]! };
      });
    }
    return {
      schema: 1,
      site: inv.site.id,
      timezone: inv.site.timezone,
      cluster: inv.site.cluster ?? null,
      ts: this.ringTs[slot]!,
      sim_ts: this.ringLive[l + L_SIM_TS]!,
      pue_it_level: this.level ?? null,
      category: this.level ? IT_LEVEL_CATEGORY[this.level] : null,
      live: {
        facility_power_w: fac,
        it_power_w: it,
        cooling_power_w: this.ringLive[l + L_COOLING]!,
        green_onsite_power_w: this.ringLive[l + L_GREEN_ONSITE]!,
        green_feed_power_w: this.ringLive[l + L_GREEN_FEED]!,
        pue: it > 0 ? fac / it : null,
        green_share_onsite_ratio: fac > 0 ? Math.min(1, this.ringLive[l + L_GREEN_ONSITE]! / fac) : null,
        outdoor_temp_c: this.ringLive[l + L_OUTDOOR]!,
        wet_bulb_c: this.ringLive[l + L_WET_BULB]!,
      },
      energy_kwh: {
        facility: this.prevEnergy[0]! - this.firstEnergy[0]!,
        it: this.prevEnergy[1]! - this.firstEnergy[1]!,
        cooling: this.prevEnergy[2]! - this.firstEnergy[2]!,
        green_onsite: this.prevEnergy[3]! - this.firstEnergy[3]!,
        green_feed: this.prevEnergy[4]! - this.firstEnergy[4]!,
      },
      windows: {
        '15m': this.windowsOf('15m', (t) => quarterOf(t), limit['15m']),
        '1h': this.windowsOf('1h', (t) => hourOf(this.zone, t), limit['1h']),
        '1d': this.windowsOf('1d', (t) => dayOf(this.zone, t), limit['1d']),
      },
      occupancy: this.occupancyDays(limit.occupancy),
      green_share: { '1mo': this.greenOf('1mo', limit['1mo']), '1y': this.greenOf('1y', limit['1y']) },
      devices,
    };
  }

  /** Σ of true power (or energy) over an index list. */
  private sum(idx: Int32Array, sign: Float64Array | undefined, energy: boolean): number {
    let s = 0;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      const v = energy ? this.model.trueEnergyKwh(i) : this.model.truePowerW(i);
      s += sign ? sign[k]! * v : v;
    }
    return s;
  }

  private spread(from: number, to: number, e: number[]): void {
    const span = to - from;
    let t = from;
    while (t < to || (span === 0 && t === to)) {
      const q = Math.floor(t / QUARTER_MS);
      const end = Math.min(to, (q + 1) * QUARTER_MS);
      const frac = span > 0 ? (end - t) / span : 1;
      const b = this.bucket(q);
      for (let f = 0; f < 5; f++) this.buckets[b + f]! += (e[f]! - this.prevEnergy[f]!) * frac;
      this.buckets[b + F_COVERED_MS]! += end - t;
      if (span === 0) break;
      t = end;
    }
  }

  /** Offset of bucket number q in `buckets`, cleared when the ring slot held an older bucket. */
  private bucket(q: number): number {
    const slot = q % this.bucketCap;
    if (this.bucketNo[slot] !== q) {
      this.bucketNo[slot] = q;
      this.buckets.fill(0, slot * NF, slot * NF + NF);
    }
    return slot * NF;
  }

  private sumBuckets(start: number, end: number): Float64Array {
    const out = new Float64Array(NF);
    for (let q = Math.floor(start / QUARTER_MS); q * QUARTER_MS < end; q++) {
      const slot = q % this.bucketCap;
      if (this.bucketNo[slot] !== q) continue;
      for (let f = 0; f < NF; f++) out[f]! += this.buckets[slot * NF + f]!;
    }
    return out;
  }

  private occupancy(from: number, to: number): void {
    let t = from;
    while (t < to) {
      const end = Math.min(to, this.day.end);
      const dt = end - t;
      this.dayObservedMs += dt;
      for (let r = 0; r < this.rackIds.length; r++) if (this.rackPrevW[r]! >= this.rackThresholdW[r]!) this.rackOnMs[r]! += dt;
      t = end;
      if (t >= this.day.end) {
        this.days.push(this.closeDay());
        if (this.days.length > this.retentionDays) this.days.shift();
        this.day = dayOf(this.zone, this.day.end);
        this.dayObservedMs = 0;
        this.rackOnMs.fill(0);
      }
    }
  }

  private closeDay(): OccupancyDay {
    const len = this.day.end - this.day.start;
    let on = 0;
    for (let r = 0; r < this.rackIds.length; r++) if (this.rackOnMs[r]! >= this.onRack.day_ratio * len) on++;
    const sums = this.sumBuckets(this.day.start, this.day.end);
    const n = this.rackIds.length;
    const hours = len / 3_600_000;
    return {
      date: localDate(this.zone, this.day.start),
      window_start: this.day.start,
      window_end: this.day.end,
      racks_available: n,
      racks_on: on,
      occupancy_ratio: n > 0 ? on / n : null,
      it_kwh: sums[F_IT]!,
      rated_kw: this.rackRatedKw,
      utilisation_ratio: this.rackRatedKw > 0 ? sums[F_IT]! / (hours * this.rackRatedKw) : null,
      coverage_ratio: this.dayObservedMs / len,
    };
  }

  private occupancyDays(limit: number): OccupancyDay[] {
    // The day in progress is reported too, with its coverage so far.
    const current = this.dayObservedMs > 0 ? [this.closeDay()] : [];
    return [...this.days, ...current].slice(-limit);
  }

  private windowsOf(kind: TruthWindow['window'], bounds: (t: number) => WindowBounds, limit: number): TruthWindow[] {
    const out: TruthWindow[] = [];
    let w = bounds(this.prevTs);
    const oldest = this.oldestBucketStart();
    while (out.length < limit && w.end > oldest) {
      const s = this.sumBuckets(w.start, w.end);
      if (s[F_COVERED_MS]! > 0) {
        out.push({
          window: kind,
          window_start: w.start,
          window_end: w.end,
          facility_kwh: s[F_FACILITY]!,
          it_kwh: s[F_IT]!,
          cooling_kwh: s[F_COOLING]!,
          green_onsite_kwh: s[F_GREEN_ONSITE]!,
          green_feed_kwh: s[F_GREEN_FEED]!,
          pue: s[F_IT]! > 0 ? s[F_FACILITY]! / s[F_IT]! : null,
          coverage_ratio: s[F_COVERED_MS]! / (w.end - w.start),
        });
      }
      w = bounds(w.start - 1);
    }
    return out.reverse();
  }

  private greenOf(kind: GreenWindow['window'], limit: number): GreenWindow[] {
    const out: GreenWindow[] = [];
    let w = kind === '1mo' ? monthOf(this.zone, this.prevTs) : yearOf(this.zone, this.prevTs);
    const oldest = this.oldestBucketStart();
    while (out.length < limit && w.end > oldest) {
      const s = this.sumBuckets(w.start, w.end);
      if (s[F_COVERED_MS]! > 0) {
        const certs = kind === '1mo' ? (this.certificates.get(w.period) ?? 0) : [...this.certificates].filter(([p]) => p.startsWith(`${w.period}-`)).reduce((a, [, c]) => a + c, 0);
        const certificate_kwh = certs * 1000;
        const fac = s[F_FACILITY]!;
        out.push({
          window: kind,
          period: w.period,
          window_start: w.start,
          window_end: w.end,
          facility_kwh: fac,
          green_onsite_kwh: s[F_GREEN_ONSITE]!,
          green_feed_kwh: s[F_GREEN_FEED]!,
          certificate_kwh,
          green_share_ratio: fac > 0 ? Math.min(1, (s[F_GREEN_ONSITE]! + s[F_GREEN_FEED]! + certificate_kwh) / fac) : null,
          coverage_ratio: s[F_COVERED_MS]! / (w.end - w.start),
        });
      }
      w = kind === '1mo' ? monthOf(this.zone, w.start - 1) : yearOf(this.zone, w.start - 1);
    }
    return out.reverse();
  }

  /** Start of the oldest data still held: the recording's start or the retention limit. */
  private oldestBucketStart(): number {
    const newest = Math.floor(this.prevTs / QUARTER_MS);
    return Math.max(this.firstTs, (newest - this.bucketCap + 1) * QUARTER_MS);
  }

  /** Ring slot of the newest served state with ts ≤ `ts`, or −1. */
  private slotAt(ts: number): number {
    let lo = 0;
    let hi = this.ringSize - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const slot = (this.ringHead + mid) % this.ringCap;
      if (this.ringTs[slot]! <= ts) {
        found = slot;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
