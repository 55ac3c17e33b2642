import { describe, expect, it } from 'vitest';
import { EnergyBuckets, EVENT_RESET, EVENT_SPIKE } from '../../../collector/ledger/energy-buckets.js';
import { MeterLedger, type LedgerSink } from '../../../collector/ledger/meter-ledger.js';
import { QUARTER_MS, siteCalendar } from '../../../shared/time/site-calendar.js';
import { drawCase, runCase } from './generated-meter.js';

// 2026-01-01T00:00:00+08:00, a quarter-hour boundary.
const T0 = Date.UTC(2025, 11, 31, 16);
const S = 1000;
const MIN = 60 * S;
const cal = siteCalendar('Asia/Shanghai');

interface Span {
  from: number;
  to: number;
  kwh: number;
  covered: boolean;
  events: number;
  sign: number;
}
const recorder = () => {
  const spans: Span[] = [];
  const sink: LedgerSink = { add: (from, to, kwh, covered, events, sign) => spans.push({ from, to, kwh, covered, events, sign }) };
  return { spans, sink };
};
const buckets = () => new EnergyBuckets({ calendar: cal, quarter_capacity: 96 * 3, day_capacity: 10 });

describe('MeterLedger, counter meters', () => {
  it('books each step between readings, classified by counterDelta', () => {
    const { spans, sink } = recorder();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, modulus_kwh: 1_000_000, sinks: [sink] });
    expect(l.sample(T0, 999_990)).toBe('applied'); // baseline only
    expect(l.sample(T0 + 5 * S, 5)).toBe('applied'); // rollover: 15
    expect(l.sample(T0 + 10 * S, 3)).toBe('applied'); // reset: 3
    expect(spans).toEqual([
      { from: T0, to: T0 + 5 * S, kwh: 15, covered: true, events: 0, sign: 1 },
      { from: T0 + 5 * S, to: T0 + 10 * S, kwh: 3, covered: true, events: EVENT_RESET, sign: 1 },
    ]);
    expect(l.events).toEqual({ rollovers: 1, resets: 1, spikes: 0 });
  });

  it('drops a spike without covering its span, and continues from the new value', () => {
    const { spans, sink } = recorder();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, rated_kw: 10, sinks: [sink] });
    l.sample(T0, 100);
    l.sample(T0 + 5 * S, 5_000); // 4,900 kWh in 5 s from a 10 kW meter
    l.sample(T0 + 10 * S, 5_000.01);
    expect(spans[0]).toEqual({ from: T0, to: T0 + 5 * S, kwh: 0, covered: false, events: EVENT_SPIKE, sign: 1 });
    expect(spans[1]!.kwh).toBeCloseTo(0.01, 9);
    expect(l.events.spikes).toBe(1);
  });

  it('a counter gap is booked in full (the counter integrated through it) and spread evenly', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0, 1000);
    l.sample(T0 + 30 * MIN, 1030); // 30 min gap: 15 kWh in each quarter hour
    expect(b.quarter(T0 / QUARTER_MS)).toEqual({ kwh: 15, covered_ms: QUARTER_MS, resets: 0, spikes: 0 });
    expect(b.quarter(T0 / QUARTER_MS + 1)).toEqual({ kwh: 15, covered_ms: QUARTER_MS, resets: 0, spikes: 0 });
  });

  it('late readings split the gap they fall into (a replayed backlog refines the time split)', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0, 1000);
    l.sample(T0 + 30 * MIN, 1030);
    // The backlog says all 30 kWh were used in the first quarter hour.
    expect(l.sample(T0 + 15 * MIN, 1030)).toBe('late_applied');
    expect(b.quarter(T0 / QUARTER_MS)!.kwh).toBeCloseTo(30, 9);
    expect(b.quarter(T0 / QUARTER_MS + 1)!.kwh).toBeCloseTo(0, 9);
    expect(b.quarter(T0 / QUARTER_MS)!.covered_ms).toBe(QUARTER_MS);
    expect(l.sample(T0 + 15 * MIN, 1030)).toBe('duplicate');
    expect(l.sample(T0 + 30 * MIN, 1030)).toBe('duplicate');
  });

  it('a late reading before the first one extends the ledger backwards', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0 + 15 * MIN, 1015);
    expect(l.sample(T0, 1000)).toBe('late_applied');
    expect(b.quarter(T0 / QUARTER_MS)).toEqual({ kwh: 15, covered_ms: QUARTER_MS, resets: 0, spikes: 0 });
  });

  it('a late reading inside an ordinary step is absorbed (the energy is already booked)', () => {
    const { spans, sink } = recorder();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [sink] });
    l.sample(T0, 1000);
    l.sample(T0 + 10 * S, 1001);
    l.sample(T0 + 20 * S, 1002);
    const booked = spans.length;
    expect(l.sample(T0 + 5 * S, 1000.5)).toBe('absorbed');
    expect(spans).toHaveLength(booked);
    expect(spans.reduce((e, x) => e + x.sign * x.kwh, 0)).toBeCloseTo(2, 9);
  });

  it('re-splitting a gap that hid a meter swap finds the reset and keeps the energy before it', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0, 12_345);
    l.sample(T0 + 30 * MIN, 3); // reset: only 3 kWh known
    expect(b.quarterSum(T0, T0 + 30 * MIN)).toEqual({ kwh: 3, covered_ms: 2 * QUARTER_MS, resets: 1, spikes: 0 });
    l.sample(T0 + 10 * MIN, 12_350); // the backlog: 5 kWh before the swap
    const s = b.quarterSum(T0, T0 + 30 * MIN);
    expect(s.kwh).toBeCloseTo(8, 9);
    expect(s.resets).toBe(1);
    expect(l.events.resets).toBe(1);
  });
});

describe('MeterLedger, power-only meters (trapezoid across gaps ≤ 2 intervals)', () => {
  it('integrates short steps and leaves long gaps missing', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'power', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0, 36_000); // W
    l.sample(T0 + 10 * S, 36_000); // 10 s at 36 kW = 0.1 kWh
    l.sample(T0 + 30 * S, 72_000); // 20 s = 2 intervals: trapezoid (36 + 72) / 2 kW × 20 s = 0.3 kWh
    l.sample(T0 + 60 * S, 72_000); // 30 s > 2 intervals: missing
    const q = b.quarter(T0 / QUARTER_MS)!;
    expect(q.kwh).toBeCloseTo(0.4, 9);
    expect(q.covered_ms).toBe(30 * S);
  });

  it('late readings fill a gap', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'power', interval_ms: 10 * S, sinks: [b] });
    l.sample(T0, 3_600);
    l.sample(T0 + 40 * S, 3_600);
    expect(b.quarter(T0 / QUARTER_MS)).toBeUndefined();
    expect(l.sample(T0 + 20 * S, 3_600)).toBe('late_applied');
    const q = b.quarter(T0 / QUARTER_MS)!;
    expect(q.covered_ms).toBe(40 * S);
    expect(q.kwh).toBeCloseTo((3.6 * 40) / 3600, 9);
  });

  it('keeps a bounded number of gaps', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'power', interval_ms: 10 * S, sinks: [b], max_gaps: 2 });
    for (let i = 0; i < 5; i++) l.sample(T0 + i * MIN, 1000); // four 60 s gaps
    // The oldest gaps are forgotten: a reading inside one is absorbed.
    expect(l.sample(T0 + 30 * S, 1000)).toBe('absorbed');
    expect(l.sample(T0 + 3.5 * MIN, 1000)).toBe('late_applied');
  });
});

describe('EnergyBuckets', () => {
  it('spreads a span over quarter hours by overlap and books events at the end', () => {
    const b = buckets();
    b.add(T0 + 10 * MIN, T0 + 20 * MIN, 10, true, EVENT_RESET, 1);
    expect(b.quarter(T0 / QUARTER_MS)).toEqual({ kwh: 5, covered_ms: 5 * MIN, resets: 0, spikes: 0 });
    expect(b.quarter(T0 / QUARTER_MS + 1)).toEqual({ kwh: 5, covered_ms: 5 * MIN, resets: 1, spikes: 0 });
    b.add(T0 + 10 * MIN, T0 + 20 * MIN, 10, true, EVENT_RESET, -1);
    expect(b.quarterSum(T0, T0 + 30 * MIN)).toEqual({ kwh: 0, covered_ms: 0, resets: 0, spikes: 0 });
  });

  it('answers whole local days from the day ring and the rest from quarter hours', () => {
    const b = buckets();
    // One kWh per quarter hour for two local days and a half.
    for (let q = 0; q < 240; q++) b.add(T0 + q * QUARTER_MS, T0 + (q + 1) * QUARTER_MS, 1, true, 0, 1);
    expect(b.daySum(cal.dayNumber(T0), cal.dayNumber(T0) + 1).kwh).toBeCloseTo(96, 9);
    expect(b.windowSum(T0 + 4 * QUARTER_MS, T0 + 240 * QUARTER_MS).kwh).toBeCloseTo(236, 9);
  });

  it('refuses pieces older than its rings keep, and counts them', () => {
    const b = new EnergyBuckets({ calendar: cal, quarter_capacity: 4, day_capacity: 0 });
    b.add(T0 + 10 * QUARTER_MS, T0 + 11 * QUARTER_MS, 1, true, 0, 1);
    b.add(T0, T0 + QUARTER_MS, 1, true, 0, 1);
    expect(b.dropped_pieces).toBe(1);
    expect(b.quarter(T0 / QUARTER_MS)).toBeUndefined();
    expect(b.quarter(T0 / QUARTER_MS + 10)!.kwh).toBe(1);
  });

  it('knows which quarter hours can hold data: none before the first write or after the newest', () => {
    const b = new EnergyBuckets({ calendar: cal, quarter_capacity: 8, day_capacity: 0 });
    const q0 = T0 / QUARTER_MS;
    const empty = (r: { lo: number; hi: number }) => r.lo >= r.hi;
    expect(empty(b.heldQuarters(q0, q0 + 96))).toBe(true);
    b.add(T0 + 5 * QUARTER_MS, T0 + 7 * QUARTER_MS, 2, true, 0, 1);
    expect(b.heldQuarters(q0, q0 + 96)).toEqual({ lo: q0 + 5, hi: q0 + 7 });
    expect(empty(b.heldQuarters(q0, q0 + 5))).toBe(true);
    expect(empty(b.heldQuarters(q0 + 7, q0 + 96))).toBe(true);
    b.add(T0 + 20 * QUARTER_MS, T0 + 21 * QUARTER_MS, 1, true, 0, 1);
    expect(b.heldQuarters(q0, q0 + 96)).toEqual({ lo: q0 + 5, hi: q0 + 21 });
    expect(b.heldQuarters(q0 + 10, q0 + 15)).toEqual({ lo: q0 + 10, hi: q0 + 15 });
    // Every quarter the range leaves out really is empty.
    for (let q = q0; q < q0 + 96; q++) if (q < q0 + 5 || q >= q0 + 21) expect(b.quarter(q)).toBeUndefined();
  });
});

describe('MeterLedger, quantised counters (steps judged and spread with the resolution)', () => {
  const APC = { step_kwh: 0.1, relative: 0, decimal: false };
  /** An APC-like register: 0.1 kWh steps, read as raw × 0.1 like the agent decodes it. */
  const apc = (kwh: number) => Math.floor(kwh * 10 + 1e-9) * 0.1;

  it('a 12 kW PDU counting in 0.1 kWh, polled every 5 s: every step is energy, none is a spike', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, rated_kw: 12, resolution: APC, sinks: [b] });
    // 5 kW for an hour from a register at 46,341.05 kWh: one step every 72 s.
    for (let t = 0; t <= 60 * MIN; t += 5 * S) l.sample(T0 + t, apc(46_341.05 + (5 * t) / 3_600_000));
    expect(l.events.spikes).toBe(0);
    for (let q = 1; q < 4; q++) expect(b.quarter(T0 / QUARTER_MS + q)!.kwh).toBeCloseTo(1.25, 1);
    expect(b.quarterSum(T0, T0 + 60 * MIN).kwh).toBeCloseTo(5, 1);
    expect(l.last_rate_kw).toBeCloseTo(5, 0);
  });

  it('a meter swap that jumps by thousands of kWh is still a spike, and a garbage read is two', () => {
    const { spans, sink } = recorder();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, rated_kw: 12, resolution: APC, sinks: [sink] });
    l.sample(T0, 46_341.2);
    l.sample(T0 + 5 * S, 52_000);
    expect(l.events.spikes).toBe(1);
    expect(spans.at(-1)).toMatchObject({ from: T0, to: T0 + 5 * S, kwh: 0, covered: false, events: EVENT_SPIKE });
    l.sample(T0 + 10 * S, 1e9);
    l.sample(T0 + 15 * S, 52_000.1);
    expect(l.events.spikes).toBe(3);
    l.sample(T0 + 80 * S, 52_000.2);
    expect(spans.at(-1)).toMatchObject({ kwh: expect.closeTo(0.1, 9), covered: true, events: 0 });
  });

  it('a register wrapping at its modulus between two knots is a rollover of one step', () => {
    const b = buckets();
    const modulus = 214_748_364.8; // APC: (2^31 − 1) × 0.1 + one step
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, rated_kw: 12, modulus_kwh: modulus, resolution: APC, sinks: [b] });
    l.sample(T0, 214_748_364.6);
    l.sample(T0 + 70 * S, 214_748_364.7);
    for (let t = 75; t < 140; t += 5) l.sample(T0 + t * S, 214_748_364.7);
    l.sample(T0 + 140 * S, 0);
    expect(l.events).toEqual({ rollovers: 1, resets: 0, spikes: 0 });
    expect(b.quarter(T0 / QUARTER_MS)!.kwh).toBeCloseTo(0.2, 6);
    expect(b.quarter(T0 / QUARTER_MS)!.covered_ms).toBe(140 * S);
  });

  it('the time since the last step is pending: booked at the last rate, at most one step, then taken back by the next step', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 5 * S, rated_kw: 12, resolution: APC, sinks: [b] });
    const q0 = T0 / QUARTER_MS;
    l.sample(T0, 100.0);
    l.sample(T0 + 72 * S, 100.1); // 5 kW
    l.sample(T0 + 144 * S, 100.2);
    // 35 s after the step, at 5 kW: 0.0486 kWh booked for now.
    for (let t = 149; t <= 180; t += 5) l.sample(T0 + t * S, 100.2);
    expect(b.quarter(q0)!.kwh).toBeCloseTo(0.2 + (5 * 35) / 3600, 6);
    expect(b.quarter(q0)!.covered_ms).toBe(179 * S);
    // The load stops: the pending estimate never exceeds one step, and the silent rate falls with it.
    for (let t = 185; t <= 600; t += 5) l.sample(T0 + t * S, 100.2);
    expect(b.quarter(q0)!.kwh).toBeCloseTo(0.3, 6);
    expect(l.last_rate_kw!).toBeCloseTo(0.1 / ((600 - 144) / 3600), 6);
    // The next step books the span's real energy and takes the estimate back exactly.
    l.sample(T0 + 605 * S, 100.3);
    expect(b.quarter(q0)!.kwh).toBeCloseTo(0.3, 9);
    expect(b.quarter(q0)!.covered_ms).toBe(605 * S);
    expect(l.last_rate_kw!).toBeCloseTo(0.1 / ((605 - 144) / 3600), 6);
  });

  it('a span that ends in a jump of several steps keeps the jump in its last poll interval', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 30 * S, rated_kw: 50, resolution: APC, sinks: [b] });
    // Idle until 14:30 past the quarter, then 40 kW: the 0.4 kWh after 14:30 belong to the next quarter hour.
    l.sample(T0 + 13 * MIN, 10.0);
    l.sample(T0 + 13.5 * MIN, 10.1);
    l.sample(T0 + 14 * MIN, 10.1);
    l.sample(T0 + 14.5 * MIN, 10.1);
    l.sample(T0 + 15.5 * MIN, 10.8);
    const q0 = T0 / QUARTER_MS;
    expect(b.quarter(q0)!.kwh).toBeLessThan(0.1 + 0.1 + 0.35 + 1e-9);
    expect(b.quarter(q0)!.kwh + b.quarter(q0 + 1)!.kwh).toBeCloseTo(0.8, 9);
    expect(b.quarter(q0 + 1)!.kwh).toBeGreaterThan(0.3);
  });

  it('learns a decimal counter’s step from the decimals it reports', () => {
    const l = new MeterLedger({ mode: 'counter', interval_ms: 10 * S, sinks: [] });
    l.sample(T0, 1234);
    expect(l.resolutionAt(1234)).toBe(1);
    l.sample(T0 + 10 * S, 1234.5);
    expect(l.resolutionAt(1234.5)).toBeCloseTo(0.1, 12);
    l.sample(T0 + 20 * S, 1234.52);
    expect(l.resolutionAt(1234.52)).toBeCloseTo(0.01, 12);
  });
});

describe('MeterLedger, generated meters: each 15-minute window against the integral of power', () => {
  it('400 drawn meters: resolutions 0.001–1 kWh, polls 1 s–15 min, loads 1–100 %, gaps, swaps, rollovers', () => {
    const failures: string[] = [];
    const seen = { windows: 0, shaped: 0, baseline: 0, beyondOneStep: 0, reset: 0, gaps: 0, rollovers: 0, minRes: Infinity, maxRes: 0, minPoll: Infinity, maxPoll: 0 };
    for (let seed = 1; seed <= 400; seed++) {
      const c = drawCase(seed);
      const run = runCase(c);
      const R = c.resolution_kwh;
      Object.assign(seen, { minRes: Math.min(seen.minRes, R), maxRes: Math.max(seen.maxRes, R), minPoll: Math.min(seen.minPoll, c.interval_ms), maxPoll: Math.max(seen.maxPoll, c.interval_ms) });
      seen.gaps += c.gaps;
      seen.rollovers += run.ledger.events.rollovers;
      expect(run.ledger.events.spikes, `seed ${seed}: no step of a real meter is a spike`).toBe(0);
      // Knots: the readings at which the register moved; each with the reading before it.
      const rd = run.readings;
      const knots = rd.flatMap((x, i) => (i === 0 || x.v !== rd[i - 1]!.v ? [{ t: x.t, before: i > 0 ? rd[i - 1]!.t : x.t - c.interval_ms }] : []));
      // What one window edge may be off by. Between two steps under a steady load the register
      // lags the energy by less than one poll interval's worth (and less than a step). A span
      // that starts where the register's place inside its step is unknown (the first reading,
      // after a gap or a swap) or in which the load changed may be off by up to a step: the
      // counter cannot tell where in the span the energy came.
      const edge = (w: number): { bound: number; kind: 'steady' | 'shaped' | 'baseline' } => {
        // The first reading's place inside its step stays in the first window; after the last
        // step the window holds the pending estimate.
        if (w <= run.first || w >= run.last) return { bound: R, kind: 'baseline' };
        const i = knots.findIndex((k) => k.t > w);
        const a = i > 0 ? knots[i - 1]! : knots[0]!;
        const to = i >= 0 ? knots[i]!.t : run.last;
        if (run.loadChanges.some((t) => t > a.before && t <= to)) return { bound: R, kind: 'shaped' };
        const fresh = (k: { t: number; before: number }) => k.t > run.first && k.t - k.before <= 2 * c.interval_ms && k.t !== run.resetAt;
        if (!fresh(a) || i < 0 || !fresh(knots[i]!)) return { bound: R, kind: 'baseline' };
        return { bound: Math.min(R, (run.powerAt(w) * 1.2 * c.interval_ms) / 3_600_000), kind: 'steady' };
      };
      for (let q = Math.floor(run.first / QUARTER_MS); q * QUARTER_MS < run.last; q++) {
        const ws = q * QUARTER_MS;
        const we = ws + QUARTER_MS;
        const from = Math.max(ws, run.first);
        const to = Math.min(we, run.last);
        const truth = run.truthKwh(from, to);
        const got = run.buckets.quarter(q);
        seen.windows++;
        const [s0, s1] = [edge(ws), edge(we)];
        if (s0.kind === 'shaped' || s1.kind === 'shaped') seen.shaped++;
        if (s0.kind === 'baseline' || s1.kind === 'baseline') seen.baseline++;
        let tol = Math.max(0.005 * truth, s0.bound + s1.bound);
        let oneStep = Math.max(0.005 * truth, R);
        // A swap: what the old register counted after its last reading is gone with it.
        if (run.resetAt !== undefined && run.resetAt > ws - c.interval_ms && run.resetAt <= we + 2 * c.interval_ms) {
          const lost = R + run.truthKwh(run.resetAt - 1.2 * c.interval_ms, run.resetAt);
          tol += lost;
          oneStep += lost;
          seen.reset++;
        }
        const err = (got?.kwh ?? 0) - truth;
        if (Math.abs(err) > oneStep) seen.beyondOneStep++;
        if (!(Math.abs(err) <= tol + 1e-9) || got?.covered_ms !== to - from) {
          failures.push(`seed ${seed} (R ${R} kWh, poll ${c.interval_ms / S} s, rated ${c.rated_kw.toFixed(1)} kW) window ${q - T0 / QUARTER_MS}: ${got?.kwh.toFixed(4)} kWh vs ${truth.toFixed(4)} (± ${tol.toFixed(4)}), covered ${got?.covered_ms} of ${to - from} ms`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    // The draw covers what it claims to.
    expect(seen.minRes).toBe(0.001);
    expect(seen.maxRes).toBe(1);
    expect(seen.minPoll).toBeLessThan(3 * S);
    expect(seen.maxPoll).toBeGreaterThan(10 * MIN);
    expect(seen.windows).toBeGreaterThan(4000);
    // The second step of allowance is rarely used: a load change inside a span between steps.
    expect(seen.shaped).toBeGreaterThan(100);
    expect(seen.beyondOneStep).toBeLessThan(seen.windows / 500);
    expect(seen.reset).toBeGreaterThan(50);
    expect(seen.gaps).toBeGreaterThan(100);
    expect(seen.rollovers).toBeGreaterThan(50);
  });
});

describe('MeterLedger, counters with power assist (the meter also reports its power)', () => {
  // Every window of every drawn meter within max(0.5 %, one step), load changes included: the
  // power places the energy inside a poll interval, the register keeps the sum within its step.
  it.each<[string, number]>([
    ['exact power', 1],
    ['power reading 3 % high', 1.03],
    ['power reading 3 % low', 0.97],
  ])('400 drawn meters, %s', (_name, bias) => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const c = drawCase(seed);
      const run = runCase(c, true, { bias });
      const R = c.resolution_kwh;
      expect(run.ledger.events.spikes, `seed ${seed}`).toBe(0);
      for (let q = Math.floor(run.first / QUARTER_MS); q * QUARTER_MS < run.last; q++) {
        const ws = q * QUARTER_MS;
        const we = ws + QUARTER_MS;
        const from = Math.max(ws, run.first);
        const to = Math.min(we, run.last);
        const truth = run.truthKwh(from, to);
        const got = run.buckets.quarter(q);
        // The first reading's place in its step is a guess the power can only drift away from.
        let tol = Math.max(0.005 * truth, from === run.first && bias !== 1 ? 2 * R : R);
        if (run.resetAt !== undefined && run.resetAt > ws - c.interval_ms && run.resetAt <= we + 2 * c.interval_ms) tol += R + run.truthKwh(run.resetAt - 1.2 * c.interval_ms, run.resetAt);
        const err = (got?.kwh ?? 0) - truth;
        if (!(Math.abs(err) <= tol + 1e-9) || got?.covered_ms !== to - from) failures.push(`seed ${seed} (R ${R}, poll ${c.interval_ms / S} s) window ${q - T0 / QUARTER_MS}: ${got?.kwh.toFixed(4)} vs ${truth.toFixed(4)} ± ${tol.toFixed(4)}, covered ${got?.covered_ms} of ${to - from}`);
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('a garbage read is still two spikes, and the estimate starts again after them', () => {
    const b = buckets();
    const l = new MeterLedger({ mode: 'counter', interval_ms: 60 * S, rated_kw: 12, resolution: { step_kwh: 0.1, relative: 0, decimal: false }, sinks: [b], power_assist: true });
    let t = T0;
    const poll = (v: number, w: number) => {
      l.sample(t, v);
      l.power(t, w);
      t += 60 * S;
    };
    const reg = (kwh: number) => Math.round(kwh * 10) / 10;
    for (let i = 0; i < 5; i++) poll(reg(1000 + i * 0.1), 6000); // 6 kW: 0.1 kWh a minute
    poll(9e8, 6000);
    poll(1000.7, 6000);
    for (let i = 1; i <= 5; i++) poll(reg(1000.7 + i * 0.1), 6000);
    expect(l.events.spikes).toBe(2);
    expect(l.last_rate_kw).toBeCloseTo(6, 9);
    const q = b.quarter(T0 / QUARTER_MS)!;
    // Eleven minutes, two of them dropped as spikes: nine minutes at 6 kW.
    expect(q.covered_ms).toBe(9 * MIN);
    expect(q.kwh).toBeCloseTo(0.9, 1);
  });
});
