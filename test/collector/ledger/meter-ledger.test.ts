import { describe, expect, it } from 'vitest';
import { EnergyBuckets, EVENT_RESET, EVENT_SPIKE } from '../../../collector/ledger/energy-buckets.js';
import { MeterLedger, type LedgerSink } from '../../../collector/ledger/meter-ledger.js';
import { QUARTER_MS, siteCalendar } from '../../../collector/kpi/site-calendar.js';

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
    expect(l.sample(T0 + 5 * S, 1000.5)).toBe('absorbed');
    expect(spans).toHaveLength(2);
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
