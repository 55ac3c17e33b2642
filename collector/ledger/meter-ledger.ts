import { counterDelta } from './counter-delta.js';
import { EVENT_RESET, EVENT_SPIKE } from './energy-buckets.js';

/**
 * The energy ledger of one meter (DESIGN.md §5): turns its readings into energy spans and hands
 * them to its sinks (the site's meter group, the meter's rack), which spread them over 15-minute
 * buckets.
 *
 * - `counter` meters (a cumulative kWh point): each step between consecutive readings is one
 *   span, classified by `counterDelta` (rollover, reset, spike). A counter integrates through a
 *   gap, so a long step still counts in full and covers its span; only its split in time is a
 *   guess.
 * - `power` meters (no counter, e.g. a UPS: output power summed over its lines): trapezoid between
 *   consecutive readings when they are at most 2 poll intervals apart; a longer gap stays missing
 *   rather than invented (the emoncms #1795 lesson).
 *
 * Out-of-order and late readings: a reading older than the newest one is placed between its
 * neighbours when it falls into a long step (a gap, or before the first reading): the step is
 * taken back (exactly: the same spread with the opposite sign) and replaced by the two steps
 * through the new reading. That is how a spooled backlog replayed after an outage fills the hole
 * the live data left. A late reading inside an ordinary short step changes nothing that matters
 * (a counter's energy is already booked; a power step is already integrated) and is absorbed.
 * Memory per meter: the first and last readings and at most `max_gaps` long steps.
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
  sinks: readonly LedgerSink[];
  /** Long steps kept for late readings to split; default 32. */
  max_gaps?: number;
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

interface Gap {
  a: Sample;
  b: Sample;
}

/** Readings further apart than this many poll intervals are a gap (DESIGN.md §5). */
export const GAP_INTERVALS = 2;

export class MeterLedger {
  private first: Sample | undefined;
  private last: Sample | undefined;
  private readonly gaps: Gap[] = [];
  private readonly gapMs: number;
  readonly events: LedgerEvents = { rollovers: 0, resets: 0, spikes: 0 };
  /** Mean power of the newest step, kW: what a meter that went silent is assumed to keep drawing. */
  last_rate_kw: number | undefined;

  constructor(private readonly opts: MeterLedgerOptions) {
    this.gapMs = GAP_INTERVALS * opts.interval_ms;
  }

  get mode(): MeterMode {
    return this.opts.mode;
  }

  /** Time of the newest reading, if any. */
  get last_ts(): number | undefined {
    return this.last?.t;
  }

  /** One reading: kWh for a counter meter, W for a power meter. Finite and ≥ 0 (checked by the caller). */
  sample(t: number, v: number): SampleOutcome {
    const x = { t, v };
    const first = this.first;
    const last = this.last;
    if (!first || !last) {
      this.first = this.last = x;
      return 'applied';
    }
    if (t > last.t) {
      const kwh = this.step(last, x, 1);
      this.last_rate_kw = kwh === undefined ? this.last_rate_kw : kwh / ((t - last.t) / 3_600_000);
      if (this.isGap(last, x)) this.pushGap({ a: last, b: x });
      this.last = x;
      return 'applied';
    }
    if (t === last.t || t === first.t) return 'duplicate';
    if (t < first.t) {
      this.step(x, first, 1);
      if (this.isGap(x, first)) this.gaps.unshift({ a: x, b: first });
      this.first = x;
      this.trimGaps();
      return 'late_applied';
    }
    const i = this.gaps.findIndex((g) => g.a.t <= t && t <= g.b.t);
    if (i < 0) return 'absorbed';
    const g = this.gaps[i]!;
    if (t === g.a.t || t === g.b.t) return 'duplicate';
    this.step(g.a, g.b, -1);
    this.step(g.a, x, 1);
    this.step(x, g.b, 1);
    const parts = [{ a: g.a, b: x }, { a: x, b: g.b }].filter((p) => this.isGap(p.a, p.b));
    this.gaps.splice(i, 1, ...parts);
    this.trimGaps();
    return 'late_applied';
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

  /** Book (sign 1) or take back (sign −1) the step a → b; returns the energy booked. Deterministic in (a, b). */
  private step(a: Sample, b: Sample, sign: 1 | -1): number | undefined {
    if (this.opts.mode === 'power') {
      if (this.isGap(a, b)) return undefined;
      // W × ms → kWh.
      const kwh = ((a.v + b.v) / 2) * (b.t - a.t) / 3.6e9;
      for (const s of this.opts.sinks) s.add(a.t, b.t, kwh, true, 0, sign);
      return kwh;
    }
    const d = counterDelta({ prev_kwh: a.v, prev_ts_ms: a.t, cur_kwh: b.v, cur_ts_ms: b.t, modulus_kwh: this.opts.modulus_kwh, rated_kw: this.opts.rated_kw });
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
    for (const s of this.opts.sinks) s.add(a.t, b.t, d.delta_kwh ?? 0, d.delta_kwh !== undefined, events, sign);
    return d.delta_kwh;
  }
}
