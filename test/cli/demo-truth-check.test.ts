import { describe, expect, it } from 'vitest';
import { DemoTruthCheck, truthFor } from '../../cli/demo-truth-check.js';
import type { KpiMessage, KpiValue } from '../../contract/index.js';
import type { SiteTruth } from '../../simulators/index.js';

const H = 3_600_000;
const Q = 900_000;
/** 2026-12-07 19:25:20 Asia/Shanghai. */
const START = Date.UTC(2026, 11, 7, 11, 25, 20);
/** Quarter hours 19:30–19:45 and 19:15–19:30 (local), and the hour 19:00–20:00. */
const Q1 = Date.UTC(2026, 11, 7, 11, 30);
const Q0 = Q1 - Q;
const DAY_END = Date.UTC(2026, 11, 7, 16);

function window(kind: '15m' | '1h' | '1d', end: number, pue: number | null, coverage = 1, green = { onsite: 0, feed: 0, facility: 100 }) {
  const len = kind === '15m' ? Q : kind === '1h' ? H : 24 * H;
  return { window: kind, window_start: end - len, window_end: end, facility_kwh: green.facility, it_kwh: 80, cooling_kwh: 10, green_onsite_kwh: green.onsite, green_feed_kwh: green.feed, pue, coverage_ratio: coverage };
}

const truth = {
  windows: {
    '15m': [window('15m', Q0 + Q, 1.2, 0.3), window('15m', Q1 + Q, 1.16), window('15m', Q1 + 2 * Q, 1.16)],
    '1h': [window('1h', Date.UTC(2026, 11, 7, 12), 1.16)],
    '1d': [window('1d', DAY_END, 1.17, 1, { onsite: 10, feed: 25, facility: 100 })],
  },
  occupancy: [{ date: '2026-12-07', window_start: DAY_END - 24 * H, window_end: DAY_END, racks_available: 15, racks_on: 12, occupancy_ratio: 0.8, it_kwh: 0, rated_kw: 0, utilisation_ratio: null, coverage_ratio: 1 }],
} as unknown as SiteTruth;

function kpi(kind: KpiValue['window'], end: number, value: number | undefined, extra: Partial<KpiValue> = {}): KpiValue {
  const len = kind === '15m' ? Q : kind === '1h' ? H : 24 * H;
  const ok = value !== undefined;
  return { kpi: 'pue', basis: 'energy', window: kind, window_start: end - len, window_end: end, ok, ...(ok ? { value } : { reason: 'DCIM_E_KPI_INSUFFICIENT: inputs cover 40 % of the window (80 % needed)' }), coverage: ok ? 1 : 0.4, quality: ok ? 'measured' : 'insufficient', status: ok ? 'green' : 'grey', ...extra };
}

const msg = (kpis: KpiValue[]): KpiMessage => ({ schema: 1, site: 'demo', ts: START, kpis });
const check = () => new DemoTruthCheck({ timezone: 'Asia/Shanghai', tolerance: 0.005, settle_ms: 60_000, started_ms: START });

describe('DemoTruthCheck: closed windows against the simulator truth', () => {
  it('says when the first whole windows are due, in site time', () => {
    expect(check().firstDue().slice(1)).toEqual([
      '  first 15-minute energy PUE at 19:46 (window 19:30–19:45: the first quarter hour the demo covers whole; the one it started in is shown but not compared)',
      '  first hourly energy PUE at 21:01 (window 20:00–21:00)',
      '  daily energy PUE, rack occupancy and green share once the first whole local day, 2026-12-08, has ended',
    ]);
  });

  it.each([
    ['within 0.5 % and measured: a match', kpi('15m', Q1 + Q, 1.1649), /^15-minute energy PUE 19:30–19:45 +1\.1649 \(measured, coverage 100\.0 %\) {2}truth 1\.1600 {2}Δ \+0\.42 % {2}match$/, 'matched'],
    ['0.6 % above: off', kpi('15m', Q1 + Q, 1.167), /truth 1\.1600 {2}Δ \+0\.60 % {2}OFF by more than 0\.5 %$/, 'off'],
    ['0.6 % below: off', kpi('15m', Q1 + Q, 1.153), /Δ −0\.60 % {2}OFF by more than 0\.5 %$/, 'off'],
    ['within but partial: not a match', kpi('15m', Q1 + Q, 1.16, { quality: 'partial', coverage: 0.97 }), /1\.1600 \(partial, coverage 97\.0 %\) {2}truth 1\.1600 {2}Δ \+0\.00 % {2}within 0\.5 % but graded partial$/, 'off'],
    ['withheld where the truth has a figure', kpi('15m', Q1 + Q, undefined), /no value \(insufficient: DCIM_E_KPI_INSUFFICIENT: inputs cover 40 % .*truth 1\.1600: NO FIGURE where the truth has one$/, 'off'],
    ['the window the demo started in: not compared', kpi('15m', Q0 + Q, 1.3), /^15-minute energy PUE 19:15–19:30 .*truth 1\.2000 over 30\.0 % of the window: not compared \(the demo started inside it\)$/, 'not_compared'],
    ['the hour', kpi('1h', Date.UTC(2026, 11, 7, 12), 1.161), /^hourly energy PUE 19:00–20:00 +1\.1610 .* match$/, 'matched'],
  ] as const)('%s', (_what, k, line, counted) => {
    const c = check();
    const lines = c.observe(msg([k]), () => truth);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(c.summary()[counted]).toBe(1);
  });

  it('prints each window once, skips windows that ended before the start and asks the truth only when printing', () => {
    const c = check();
    let asked = 0;
    const t = () => (asked++, truth);
    expect(c.observe(msg([kpi('15m', Q0, 1.2)]), t)).toEqual([]);
    expect(asked).toBe(0);
    expect(c.observe(msg([kpi('15m', Q1 + Q, 1.16)]), t)).toHaveLength(1);
    expect(c.observe(msg([kpi('15m', Q1 + Q, 1.16)]), t)).toEqual([]);
    expect(c.observe(msg([kpi('15m', Q1 + 2 * Q, 1.16)]), t)).toHaveLength(1);
    expect(asked).toBe(2);
  });

  it('the day: PUE, rack occupancy and the metered green share (on-site + feeds, no certificates)', () => {
    const day = [
      kpi('1d', DAY_END, 1.171),
      { ...kpi('1d', DAY_END, 0.8), kpi: 'rack_occupancy_ratio', basis: 'on_rack_count' },
      { ...kpi('1d', DAY_END, 0.36), kpi: 'green_share_ratio', basis: 'energy_physical' },
    ];
    const lines = check().observe(msg(day), () => truth);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^daily energy PUE 2026-12-07 +1\.1710 .*truth 1\.1700 .*match$/);
    expect(lines[1]).toMatch(/^rack occupancy \(day\) 2026-12-07 +80\.00 % .*truth 80\.00 % {2}Δ \+0\.00 % {2}match$/);
    expect(lines[2]).toMatch(/^green share \(day, metered\) 2026-12-07 +36\.00 % .*truth 35\.00 % {2}Δ \+2\.86 % {2}OFF/);
  });

  it('finds no truth for figures it does not check', () => {
    expect(truthFor({ kpi: 'green_share_ratio', basis: 'energy', window: '1mo', window_end: DAY_END }, truth)).toBeUndefined();
    expect(truthFor({ kpi: 'pue', basis: 'energy', window: '15m', window_end: Q0 }, truth)).toBeUndefined();
  });
});
