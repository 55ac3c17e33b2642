import { QUARTER_MS, type SiteCalendar } from '../../shared/time/site-calendar.js';

/**
 * Energy of a set of meters (a site's meter group, or one rack) in 15-minute buckets, plus, when
 * asked for, local-day buckets. Each bucket holds the energy, the meter-milliseconds its data
 * covers (coverage = covered_ms / (meters × bucket length)) and the resets and spikes seen.
 *
 * Memory is fixed at construction: two rings of typed arrays indexed by bucket number. Quarter
 * hours are kept for `quarter_capacity` buckets (the 15-minute, hourly, daily and occupancy
 * windows, and late data recomputing them); days for `day_capacity` days (month, year, trailing
 * 12 months). Writing a bucket that its ring slot has already moved past is refused and counted:
 * the data is older than the store keeps.
 */

export const EVENT_RESET = 1;
export const EVENT_SPIKE = 2;

export interface BucketSum {
  kwh: number;
  covered_ms: number;
  resets: number;
  spikes: number;
}

export const emptySum = (): BucketSum => ({ kwh: 0, covered_ms: 0, resets: 0, spikes: 0 });

export function addSum(into: BucketSum, s: BucketSum): BucketSum {
  into.kwh += s.kwh;
  into.covered_ms += s.covered_ms;
  into.resets += s.resets;
  into.spikes += s.spikes;
  return into;
}

class Ring {
  readonly no: Int32Array;
  readonly kwh: Float64Array;
  readonly covered: Float64Array;
  readonly resets: Int32Array;
  readonly spikes: Int32Array;
  /** The newest bucket claimed: the ring answers for (newest − cap, newest]. */
  newest = -0x80000000;
  /** The oldest bucket ever claimed: nothing before it was written. */
  oldest = 0x7fffffff;

  constructor(readonly cap: number) {
    this.no = new Int32Array(cap).fill(-0x80000000);
    this.kwh = new Float64Array(cap);
    this.covered = new Float64Array(cap);
    this.resets = new Int32Array(cap);
    this.spikes = new Int32Array(cap);
  }

  /** The slot for bucket `n`, claimed if it held an older bucket; −1 when `n` is older than the slot's. */
  claim(n: number): number {
    if (n <= this.newest - this.cap) return -1;
    if (n > this.newest) this.newest = n;
    if (n < this.oldest) this.oldest = n;
    const slot = ((n % this.cap) + this.cap) % this.cap;
    const held = this.no[slot]!;
    if (held === n) return slot;
    if (n < held) return -1;
    this.no[slot] = n;
    this.kwh[slot] = 0;
    this.covered[slot] = 0;
    this.resets[slot] = 0;
    this.spikes[slot] = 0;
    return slot;
  }

  find(n: number): number {
    const slot = ((n % this.cap) + this.cap) % this.cap;
    return this.no[slot] === n ? slot : -1;
  }

  addTo(out: BucketSum, n: number): boolean {
    const s = this.find(n);
    if (s < 0) return false;
    out.kwh += this.kwh[s]!;
    out.covered_ms += this.covered[s]!;
    out.resets += this.resets[s]!;
    out.spikes += this.spikes[s]!;
    return true;
  }
}

export interface EnergyBucketsOptions {
  calendar: SiteCalendar;
  quarter_capacity: number;
  /** 0: no day buckets (racks need quarter hours only). */
  day_capacity: number;
  /** Called for every quarter hour written, with its start and local day (caches, late-data tracking). */
  on_write?: (quarter_start_ms: number, day: number) => void;
}

export class EnergyBuckets {
  private readonly quarters: Ring;
  private readonly days: Ring | undefined;
  /** Quarter-hour pieces refused because the store no longer keeps them. */
  dropped_pieces = 0;
  /**
   * Quarter hours starting before this are not written (restoring history: those days were
   * seeded from stored day sums, and readings replayed to prime the ledgers must not add to them).
   */
  private floor_ms = Number.NEGATIVE_INFINITY;
  constructor(private readonly opts: EnergyBucketsOptions) {
    this.quarters = new Ring(Math.max(1, opts.quarter_capacity));
    this.days = opts.day_capacity > 0 ? new Ring(opts.day_capacity) : undefined;
  }

  /**
   * Spread `kwh` evenly over [from, to) (a ledger span: the energy between two readings or knots);
   * `covered` adds the span to the coverage; events are booked in the bucket holding the span's
   * end. `sign` −1 removes exactly what the same call with +1 added (late data re-splitting a gap).
   */
  add(from: number, to: number, kwh: number, covered: boolean, events: number, sign: 1 | -1): void {
    if (!(to > from)) return;
    const span = to - from;
    const lastQ = Math.floor((to - 1) / QUARTER_MS);
    for (let q = Math.floor(from / QUARTER_MS); q <= lastQ; q++) {
      const qs = q * QUARTER_MS;
      const piece = Math.min(to, qs + QUARTER_MS) - Math.max(from, qs);
      const e = (kwh * piece) / span;
      const ev = q === lastQ ? events : 0;
      this.write(q, qs, sign * e, covered ? sign * piece : 0, ev, sign);
    }
  }

  private write(q: number, qs: number, kwh: number, covered_ms: number, events: number, sign: number): void {
    if (qs < this.floor_ms) return;
    const day = this.opts.calendar.dayNumber(qs);
    const s = this.quarters.claim(q);
    if (s >= 0) {
      this.bump(this.quarters, s, kwh, covered_ms, events, sign);
      this.opts.on_write?.(qs, day);
    } else {
      this.dropped_pieces++;
    }
    if (this.days) {
      const d = this.days.claim(day);
      if (d >= 0) this.bump(this.days, d, kwh, covered_ms, events, sign);
      else this.dropped_pieces++;
    }
  }

  private bump(r: Ring, s: number, kwh: number, covered_ms: number, events: number, sign: number): void {
    r.kwh[s]! += kwh;
    r.covered[s]! += covered_ms;
    if (events & EVENT_RESET) r.resets[s]! += sign;
    if (events & EVENT_SPIKE) r.spikes[s]! += sign;
  }

  /**
   * Sets local day `day` to a stored sum (restoring history at start); false when this store keeps
   * no days or the day is older than the ring holds.
   */
  seedDay(day: number, sum: BucketSum): boolean {
    if (!this.days) return false;
    const s = this.days.claim(day);
    if (s < 0) return false;
    this.days.kwh[s] = sum.kwh;
    this.days.covered[s] = sum.covered_ms;
    this.days.resets[s] = sum.resets;
    this.days.spikes[s] = sum.spikes;
    return true;
  }

  /** Ignore writes to quarter hours before `ms` (while replaying); `-Infinity` lifts it. */
  ignoreBefore(ms: number): void {
    this.floor_ms = ms;
  }

  /** Sum of the quarter hours in [start, end) (quarter-aligned); `held` false when one is no longer kept. */
  quarterSum(start: number, end: number, out: BucketSum = emptySum()): BucketSum {
    for (let q = Math.floor(start / QUARTER_MS); q * QUARTER_MS < end; q++) this.quarters.addTo(out, q);
    return out;
  }

  /**
   * The part of the quarter hours [fromQ, toQ) that can hold data, from the ring's bounds (nothing
   * before the first write or after the newest); empty when lo >= hi.
   */
  heldQuarters(fromQ: number, toQ: number): { lo: number; hi: number } {
    const r = this.quarters;
    return { lo: Math.max(fromQ, r.oldest), hi: Math.min(toQ, r.newest + 1) };
  }

  /** One quarter hour, or undefined when it holds nothing. */
  quarter(q: number): BucketSum | undefined {
    const out = emptySum();
    return this.quarters.addTo(out, q) ? out : undefined;
  }

  /** Sum of local days [fromDay, toDay). */
  daySum(fromDay: number, toDay: number, out: BucketSum = emptySum()): BucketSum {
    if (!this.days) throw new Error('this store keeps no day buckets');
    for (let d = fromDay; d < toDay; d++) this.days.addTo(out, d);
    return out;
  }

  /**
   * Sum over [start, end) (both quarter-aligned): whole local days from the day ring, the rest
   * from quarter hours. Without day buckets, quarter hours only.
   */
  windowSum(start: number, end: number): BucketSum {
    const cal = this.opts.calendar;
    const out = emptySum();
    if (!this.days) return this.quarterSum(start, end, out);
    let t = start;
    while (t < end) {
      const day = cal.dayNumber(t);
      const dayStart = cal.dayStart(day);
      const dayEnd = cal.dayStart(day + 1);
      if (dayStart === t && dayEnd <= end) {
        // Whole days in a row: one pass over the day ring.
        let lastDay = day + 1;
        while (cal.dayStart(lastDay + 1) <= end) lastDay++;
        this.daySum(day, lastDay, out);
        t = cal.dayStart(lastDay);
      } else {
        const stop = Math.min(dayEnd, end);
        this.quarterSum(t, stop, out);
        t = stop;
      }
    }
    return out;
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    const ring = (r: Ring | undefined) => (r ? r.cap * (4 + 8 + 8 + 4 + 4) : 0);
    return ring(this.quarters) + ring(this.days);
  }
}
