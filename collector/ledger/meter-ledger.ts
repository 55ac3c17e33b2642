import { counterDelta, type CounterDelta } from './counter-delta.js';
import { DECIMAL_RESOLUTION, decimalsOf, resolutionKwh, type CounterResolution } from './counter-range.js';
import { EVENT_RESET, EVENT_SPIKE } from './energy-buckets.js';

/**
 * The energy ledger of one meter: turns its readings into energy spans and hands them to its
 * sinks (the site's meter group, the meter's rack), which spread them over 15-minute buckets.
 * The design, with the reasons, is in docs/energy-ledger.md.
 *
 * - `counter` meters (a cumulative kWh point). A register counts in steps (its resolution): an
 *   APC PDU in 0.1 kWh, so at 5 kW it moves once every 72 s and shows the same value in between.
 *   The polls at which it moved are knots: the register has just crossed a step, so its value is
 *   close to the energy really used by then. The energy between consecutive knots is spread
 *   evenly over the span between them (constant power between two steps), classified by
 *   `counterDelta` (rollover, reset, spike; a spike is judged over the time since the last move).
 *   After the newest knot the counter's energy is not yet visible: that pending span is booked
 *   at the newest knot span's rate, never more than one step in all (the register would have
 *   moved), and taken back exactly when the next knot books the real energy. Booking step by
 *   poll instead puts up to a whole step into the wrong 15-minute window.
 *   A counter integrates through a gap, so a long step still counts in full and covers its span;
 *   only its split in time is a guess.
 * - `counter` meters with `power_assist` (the meter also reports its active power): each poll
 *   interval gets what the power says, held inside the band the register allows (see
 *   `assistedSample`); no pending span.
 * - `power` meters (no counter, e.g. a UPS: output power summed over its lines): trapezoid between
 *   consecutive readings when they are at most 2 poll intervals apart; a longer gap stays missing
 *   rather than invented (a straight line across an outage books energy nobody measured).
 *
 * Out-of-order and late readings: a reading older than the newest one is placed between its
 * neighbours when it falls into a long step (a gap, or before the first reading): the step is
 * taken back (exactly: the same spread with the opposite sign) and replaced by the two steps
 * through the new reading. That is how a spooled backlog replayed after an outage fills the hole
 * the live data left. A late reading inside an ordinary short step changes nothing that matters
 * (a counter's energy is already booked; a power step is already integrated) and is absorbed.
 * Memory per meter: a few readings (first, newest, newest knot) and at most `max_gaps` long steps.
 */

export interface LedgerSink {
  add(from_ms: number, to_ms: number, kwh: number, covered: boolean, events: number, sign: 1 | -1): void;
}

export type MeterMode = 'counter' | 'power';

export interface MeterLedgerOptions {
  mode: MeterMode;
  /** The device's poll interval: gaps are measured in intervals. */
  interval_ms: number;
  modulus_kwh?: number | undefined;
  rated_kw?: number | undefined;
  /** The counter's register step (from its profile); default: judged by the decimals it reports. */
  resolution?: CounterResolution | undefined;
  sinks: readonly LedgerSink[];
  /** Long steps kept for late readings to split; default 32. */
  max_gaps?: number;
  /**
   * Counter meters that also report their active power (handed in through `power()`): the energy
   * of each poll interval follows the power, held inside the band the register allows.
   */
  power_assist?: boolean;
}

export type SampleOutcome = 'applied' | 'late_applied' | 'absorbed' | 'duplicate';

export interface LedgerEvents {
  rollovers: number;
  resets: number;
  spikes: number;
}

interface Sample {
  t: number;
  v: number;
}

/** A step booked as one span, kept so a late reading can split it; `res` is the resolution it was judged with. */
interface Gap {
  a: Sample;
  b: Sample;
  res: number;
}

/** Readings further apart than this many poll intervals are a gap. */
export const GAP_INTERVALS = 2;
/** Relative decrease treated as register noise (float32 has a 2^-23 ≈ 1.2e-7 mantissa step). */
const JITTER_RATIO = 1e-6;
const MS_PER_H = 3_600_000;

export class MeterLedger {
  private first: Sample | undefined;
  private last: Sample | undefined;
  /** Counter meters: the newest poll at which the counter moved (or a new baseline). */
  private knot: Sample | undefined;
  /** Resolution at the knot: the most the pending span after it can hold. */
  private knotRes = 0;
  /** The knot is a reading with nothing booked before it (the first one, the end of a spike). */
  private knotOpen = true;
  /** The span that started at an open knot, until the next span's rate refines it. */
  private baseline: { a: Sample; b: Sample; d: CounterDelta; res: number } | undefined;
  /** Counter meters: mean power of the newest knot span, kW; power meters: of the newest step. */
  private rate: number | undefined;
  /** Most decimals a decimal counter has shown. */
  private decimals = 0;
  /** Power assist: the energy booked up to the newest reading, in unwrapped kWh (rollovers added), and that reading's register value in the same terms. */
  private est = 0;
  private cum = 0;
  /** Power assist: the newest active power reported, W. */
  private powerW: Sample | undefined;
  private readonly gaps: Gap[] = [];
  private readonly gapMs: number;
  private readonly resolution: CounterResolution;
  readonly events: LedgerEvents = { rollovers: 0, resets: 0, spikes: 0 };

  constructor(private readonly opts: MeterLedgerOptions) {
    this.gapMs = GAP_INTERVALS * opts.interval_ms;
    this.resolution = opts.resolution ?? DECIMAL_RESOLUTION;
  }

  get mode(): MeterMode {
    return this.opts.mode;
  }

  /** Time of the oldest reading, if any. */
  get first_ts(): number | undefined {
    return this.first?.t;
  }

  /** Time of the newest reading, if any. */
  get last_ts(): number | undefined {
    return this.last?.t;
  }

  /**
   * Mean power the meter was last seen drawing, kW: what a meter that went silent is assumed to
   * keep drawing. A counter that has not moved for a while cannot have drawn more than one step
   * over that time.
   */
  get last_rate_kw(): number | undefined {
    const r = this.rate;
    if (this.opts.power_assist && this.powerW && this.last && this.powerW.t >= this.last.t) return this.powerW.v / 1000;
    if (this.opts.mode === 'power' || r === undefined || !this.knot || !this.last) return r;
    const pending_h = (this.last.t - this.knot.t) / MS_PER_H;
    return pending_h > 0 ? Math.min(r, this.knotRes / pending_h) : r;
  }

  /** One step of the counter at `v`, kWh. */
  resolutionAt(v: number): number {
    return resolutionKwh(this.resolution, v, this.decimals);
  }

  /** The meter's active power at `t`, W (power assist; ignored otherwise). Finite and ≥ 0. */
  power(t: number, w: number): void {
    if (!this.powerW || t >= this.powerW.t) this.powerW = { t, v: w };
  }

  /** One reading: kWh for a counter meter, W for a power meter. Finite and ≥ 0 (checked by the caller). */
  sample(t: number, v: number): SampleOutcome {
    const x = { t, v };
    if (this.opts.mode === 'counter' && this.resolution.decimal) this.decimals = Math.max(this.decimals, decimalsOf(v));
    const first = this.first;
    const last = this.last;
    if (!first || !last) {
      this.first = this.last = this.knot = x;
      this.knotRes = this.resolutionAt(v);
      this.cum = v;
      this.est = v + this.bandWidth(v) / 2;
      return 'applied';
    }
    if (t > last.t) {
      if (this.opts.mode === 'counter' && this.opts.power_assist) this.assistedSample(last, x);
      else if (this.opts.mode === 'counter') this.counterSample(last, x);
      else {
        const kwh = this.step(last, x, 1, 0).delta_kwh;
        if (kwh !== undefined) this.rate = kwh / ((t - last.t) / MS_PER_H);
        if (this.isGap(last, x)) this.pushGap({ a: last, b: x, res: 0 });
      }
      this.last = x;
      return 'applied';
    }
    if (t === last.t || t === first.t || t === this.knot?.t) return 'duplicate';
    if (t < first.t) {
      const res = this.resolutionAt(x.v);
      this.step(x, first, 1, res);
      if (this.isGap(x, first)) this.gaps.unshift({ a: x, b: first, res });
      // The first reading's place in its step is now booked in the step before it.
      if (this.baseline?.a === first) this.baseline = undefined;
      if (this.knot === first) this.knotOpen = false;
      this.first = x;
      this.trimGaps();
      return 'late_applied';
    }
    const i = this.gaps.findIndex((g) => g.a.t <= t && t <= g.b.t);
    if (i < 0) return 'absorbed';
    const g = this.gaps[i]!;
    if (t === g.a.t || t === g.b.t) return 'duplicate';
    const resX = this.resolutionAt(x.v);
    this.step(g.a, g.b, -1, g.res);
    this.step(g.a, x, 1, g.res);
    this.step(x, g.b, 1, resX);
    const parts = [
      { a: g.a, b: x, res: g.res },
      { a: x, b: g.b, res: resX },
    ].filter((p) => this.isGap(p.a, p.b));
    this.gaps.splice(i, 1, ...parts);
    this.trimGaps();
    return 'late_applied';
  }

  /**
   * The width of the band the true energy lies in when the register shows `v`: one step of an
   * integer register (it truncates). A float register rounds to its last mantissa bit and the
   * agent prints the shortest decimal of that float, each within half a bit: two bits in all.
   */
  private bandWidth(v: number): number {
    const r = this.resolution;
    if (r.relative > 0 && v !== 0) return Math.max(r.step_kwh, 2 * 2 ** Math.floor(Math.log2(Math.abs(v))) * r.relative);
    return this.resolutionAt(v);
  }

  /**
   * An in-order reading of a counter with power assist. The energy since the previous reading is
   * what the power reported at it says (else the last rate), moved just enough to stay inside the
   * band the register allows: [value, value + one step) up to a constant offset. A fast-moving
   * counter then splits its energy between windows as finely as the power readings do, and a
   * slow one still as its register steps allow; the register keeps the sum right over any span.
   * Resets, spikes and gaps are booked as without assist, and the estimate restarts from them.
   */
  private assistedSample(last: Sample, x: Sample): void {
    const knot = this.knot!;
    const moved = x.v > knot.v || x.v < last.v - JITTER_RATIO * Math.abs(last.v);
    const h = (x.t - last.t) / MS_PER_H;
    const p = this.powerW;
    const kw = p && p.t >= last.t - this.opts.interval_ms && p.t <= x.t ? p.v / 1000 : this.rate;
    if (this.isGap(last, x)) {
      // A counter integrates through a gap: the plain step, kept for late readings to split.
      const d = this.step(last, x, 1, this.knotRes);
      this.pushGap({ a: last, b: x, res: this.knotRes });
      this.restart(x, d, moved);
      return;
    }
    const d: CounterDelta = moved ? this.classify(knot, x, this.knotRes) : { delta_kwh: 0, flag: 'ok' };
    if (d.delta_kwh === undefined || d.flag === 'reset') {
      this.book(last.t, x.t, d, 1);
      this.restart(x, d, true);
      return;
    }
    // The register's value in unwrapped terms: the knot's plus the step since it.
    const cum = this.cum + d.delta_kwh;
    const width = this.bandWidth(x.v);
    const guess = this.est + (kw ?? 0) * h;
    const est = Math.min(cum + width, Math.max(cum, guess));
    const e = Math.max(0, est - this.est);
    this.book(last.t, x.t, { delta_kwh: e, flag: d.flag }, 1);
    this.est = Math.max(est, this.est);
    if (moved) {
      this.cum = cum;
      this.knot = x;
      this.knotRes = this.resolutionAt(x.v);
    }
    if (h > 0) this.rate = kw ?? e / h;
  }

  /** Power assist after a gap, reset or spike: the estimate starts again inside the new value's step. */
  private restart(x: Sample, d: CounterDelta, moved: boolean): void {
    if (d.delta_kwh !== undefined && d.flag !== 'reset') {
      this.cum += d.delta_kwh;
      this.est += d.delta_kwh;
    } else {
      this.cum = x.v;
      this.est = x.v + (d.flag === 'reset' ? 0 : this.bandWidth(x.v) / 2);
    }
    if (moved) {
      this.knot = x;
      this.knotRes = this.resolutionAt(x.v);
    }
  }

  /** An in-order counter reading: a knot when the counter moved, else more of the pending span. */
  private counterSample(last: Sample, x: Sample): void {
    const knot = this.knot!;
    // Moved: up from the knot's value (a float meter's one-bit wobble back up is not a move), or
    // down by more than float noise (rollover or reset).
    const moved = x.v > knot.v || x.v < last.v - JITTER_RATIO * Math.abs(last.v);
    if (!moved) {
      this.pending(last.t, x.t, 1);
      return;
    }
    this.pending(knot.t, last.t, -1);
    const d = this.classify(knot, x, this.knotRes);
    const gap = this.isGap(last, x);
    const normal = !gap && d.delta_kwh !== undefined && (d.flag === 'ok' || d.flag === 'rollover');
    const rate = d.delta_kwh !== undefined ? d.delta_kwh / ((x.t - knot.t) / MS_PER_H) : undefined;
    const b = this.baseline;
    if (b && normal && b.b === knot) {
      // The span before this one started at a reading whose place inside its step was unknown,
      // with nothing booked before it (the first reading, or the end of a spike): its energy is
      // what this span's rate says, within the step the counter allows, rather than the whole
      // step it showed. (After a gap or a swap that place is the previous span's business: the
      // counter difference booked up to it already holds it.)
      const est = Math.min(b.d.delta_kwh!, Math.max(b.d.delta_kwh! - b.res, 0, (rate! * (b.b.t - b.a.t)) / MS_PER_H));
      this.book(b.a.t, b.b.t, b.d, -1);
      this.book(b.a.t, b.b.t, { delta_kwh: est, flag: b.d.flag }, 1);
    }
    this.baseline = undefined;
    if (gap) {
      this.book(knot.t, x.t, d, 1);
      this.pushGap({ a: knot, b: x, res: this.knotRes });
    } else if (normal && this.knotOpen) {
      this.book(knot.t, x.t, d, 1);
      this.baseline = { a: knot, b: x, d, res: this.knotRes };
    } else if (normal && last.t > knot.t) {
      // At `last` the register still showed the knot's value: less than one step had been used
      // by then. A span that ends in a jump of several steps (the load rose) keeps its energy
      // mostly in the last poll interval instead of spreading it over the quiet polls before.
      const quiet = Math.min((d.delta_kwh! * (last.t - knot.t)) / (x.t - knot.t), this.knotRes);
      this.book(knot.t, last.t, { delta_kwh: quiet, flag: 'ok' }, 1);
      this.book(last.t, x.t, { delta_kwh: d.delta_kwh! - quiet, flag: d.flag }, 1);
    } else {
      this.book(knot.t, x.t, d, 1);
    }
    // A reset or spike says nothing about the load: the rate before it stays the best guess.
    if (rate !== undefined && d.flag !== 'reset') this.rate = rate;
    this.knot = x;
    this.knotRes = this.resolutionAt(x.v);
    this.knotOpen = d.flag === 'spike';
  }

  /**
   * Books (sign 1) or takes back (sign −1) the part [from, to] of the span after the knot in which
   * the counter has not moved: at the newest knot span's rate until one step's worth, then
   * covered with nothing more (the register shows less than one step was used).
   */
  private pending(from: number, to: number, sign: 1 | -1): void {
    if (!(to > from)) return;
    const k = this.knot!;
    const r = this.rate ?? 0;
    const capAt = r > 0 ? k.t + Math.round((this.knotRes / r) * MS_PER_H) : k.t;
    const linTo = Math.min(to, capAt);
    const flatFrom = Math.max(from, capAt);
    for (const s of this.opts.sinks) {
      if (linTo > from) s.add(from, linTo, (r * (linTo - from)) / MS_PER_H, true, 0, sign);
      if (to > flatFrom) s.add(flatFrom, to, 0, true, 0, sign);
    }
  }

  private isGap(a: Sample, b: Sample): boolean {
    return b.t - a.t > this.gapMs;
  }

  private pushGap(g: Gap): void {
    this.gaps.push(g);
    this.trimGaps();
  }

  private trimGaps(): void {
    const max = this.opts.max_gaps ?? 32;
    while (this.gaps.length > max) this.gaps.shift();
  }

  /** Book (sign 1) or take back (sign −1) the step a → b. Deterministic in (a, b, res). */
  private step(a: Sample, b: Sample, sign: 1 | -1, res: number): CounterDelta {
    const d = this.classify(a, b, res);
    this.book(a.t, b.t, d, sign);
    return d;
  }

  /** The energy of the step a → b: trapezoid for power meters (none across a gap), `counterDelta` for counters. */
  private classify(a: Sample, b: Sample, res: number): CounterDelta {
    if (this.opts.mode === 'power') {
      if (this.isGap(a, b)) return { delta_kwh: undefined, flag: 'ok' };
      // W × ms → kWh.
      return { delta_kwh: ((a.v + b.v) / 2) * (b.t - a.t) / 3.6e9, flag: 'ok' };
    }
    return counterDelta({ prev_kwh: a.v, prev_ts_ms: a.t, cur_kwh: b.v, cur_ts_ms: b.t, modulus_kwh: this.opts.modulus_kwh, rated_kw: this.opts.rated_kw, resolution_kwh: res });
  }

  private book(from: number, to: number, d: CounterDelta, sign: 1 | -1): void {
    if (this.opts.mode === 'power' && d.delta_kwh === undefined) return;
    let events = 0;
    if (d.flag === 'rollover') this.events.rollovers += sign;
    if (d.flag === 'reset') {
      this.events.resets += sign;
      events |= EVENT_RESET;
    }
    if (d.flag === 'spike') {
      this.events.spikes += sign;
      events |= EVENT_SPIKE;
    }
    // A spike is dropped: its span is not covered, so the window's coverage (and quality) drops.
    for (const s of this.opts.sinks) s.add(from, to, d.delta_kwh ?? 0, d.delta_kwh !== undefined, events, sign);
  }
}
