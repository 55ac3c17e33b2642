import { describe, expect, it } from 'vitest';
import { checkSummary } from '../../../collector/bureau/summary-checks.js';
import { METER_GROUPS, type SiteSummary } from '../../../contract/summary.js';
import { topics } from '../../../contract/topics.js';

/**
 * The checks one by one, on hand-made summaries in zones whose hours and days are not UTC's
 * (India's half-hour offset, a German DST day): what the bureau test through mosquitto does not reach.
 */
const NOW = Date.UTC(2026, 3, 1);
const QUARTER = 900_000;
const HOUR = 3_600_000;

function summary(over: Partial<SiteSummary>): SiteSummary {
  const start = over.window_start ?? Date.UTC(2026, 2, 1, 0, 0);
  const end = over.window_end ?? start + QUARTER;
  const len = end - start;
  const groups = Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: 1, covered_ms: len, resets: 0, spikes: 0, meters: 1, silent_tail_ms: 0, silent_tail_kwh: 0 }])) as SiteSummary['groups'];
  return { schema: 1, site: 's1', window: '15m', window_start: start, window_end: end, timezone: 'UTC', revision: 1, generated_ms: end + 60_000, targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, rated_kw_available: 10, groups, kpis: [], ...over };
}

const check = (s: SiteSummary | string, topic?: string, tz?: string) =>
  checkSummary(topic ?? (typeof s === 'string' ? topics.summary('s1', '15m') : topics.summary(s.site, s.window)), Buffer.from(typeof s === 'string' ? s : JSON.stringify(s)), { known: new Set(['s1']), timezoneOf: () => tz, now_ms: NOW, max_skew_ms: 300_000 });
const code = (v: ReturnType<typeof check>) => (v.ok ? 'ok' : v.code);

// 2026-03-29: Europe/Berlin springs forward, a 23-hour day (local midnight 23:00 UTC the day before).
const BERLIN_DAY = { start: Date.UTC(2026, 2, 28, 23), end: Date.UTC(2026, 2, 29, 22) };
// Asia/Kolkata is UTC+5:30: its hours start at half past the UTC hour.
const KOLKATA_HOUR = Date.UTC(2026, 2, 1, 4, 30);

describe('checkSummary', () => {
  it.each([
    ['a valid quarter hour', 'ok', summary({}), undefined],
    ['a Kolkata hour starting at :30 UTC', 'ok', summary({ window: '1h', timezone: 'Asia/Kolkata', window_start: KOLKATA_HOUR, window_end: KOLKATA_HOUR + HOUR }), undefined],
    ['a UTC hour in Kolkata', 'DCIM_E_SUMMARY_INVALID', summary({ window: '1h', timezone: 'Asia/Kolkata', window_start: KOLKATA_HOUR + 30 * 60_000, window_end: KOLKATA_HOUR + 90 * 60_000 }), undefined],
    ["Berlin's 23-hour day", 'ok', summary({ window: '1d', timezone: 'Europe/Berlin', window_start: BERLIN_DAY.start, window_end: BERLIN_DAY.end, period: '2026-03-29' }), undefined],
    ["Berlin's day as 24 hours", 'DCIM_E_SUMMARY_INVALID', summary({ window: '1d', timezone: 'Europe/Berlin', window_start: BERLIN_DAY.start, window_end: BERLIN_DAY.start + 24 * HOUR, period: '2026-03-29' }), undefined],
    ['a day without its period', 'DCIM_E_SUMMARY_INVALID', summary({ window: '1d', timezone: 'Europe/Berlin', window_start: BERLIN_DAY.start, window_end: BERLIN_DAY.end }), undefined],
    ['a quarter hour with a period', 'DCIM_E_SUMMARY_INVALID', summary({ period: '2026-03-01' }), undefined],
    ['February as a month', 'ok', summary({ window: '1mo', window_start: Date.UTC(2026, 1, 1), window_end: Date.UTC(2026, 2, 1), period: '2026-02' }), undefined],
    ['February named March', 'DCIM_E_SUMMARY_INVALID', summary({ window: '1mo', window_start: Date.UTC(2026, 1, 1), window_end: Date.UTC(2026, 2, 1), period: '2026-03' }), undefined],
    ['a zone no runtime knows', 'DCIM_E_SUMMARY_INVALID', summary({ timezone: 'Mars/Olympus' }), undefined],
    ['covered meter-time within rounding', 'ok', summary({ groups: { ...summary({}).groups, it: { ...summary({}).groups.it, covered_ms: QUARTER + 0.5 } } }), undefined],
    ['accelerators busy 101 %', 'DCIM_E_SUMMARY_IMPOSSIBLE', summary({ kpis: [{ kpi: 'accelerator_utilisation_pct', window: 'instant', window_start: 0, window_end: 0, value: 101, ok: true, basis: 'mean', coverage: 1, quality: 'measured', status: 'grey' }] }), undefined],
    ['racks on above rack rating', 'DCIM_E_SUMMARY_IMPOSSIBLE', summary({ window: '1d', window_start: Date.UTC(2026, 2, 1), window_end: Date.UTC(2026, 2, 2), period: '2026-03-01', occupancy: { racks_available: 4, racks_on: 2, racks_metered: 4, racks_reserved: 0, racks_planned: 0, rated_kw_available: 10, rated_kw_on: 12, coverage: 1 } }), undefined],
    ['more accelerators reporting than installed', 'DCIM_E_SUMMARY_IMPOSSIBLE', summary({ compute: { ai_tflops: 1, accelerators: 2, accelerators_unknown: 0, general_tflops: 0, cpus: 0, cpus_unknown: 0, accelerators_reporting: 3, unknown_models: [], at_ms: NOW - HOUR } }), undefined],
    ['another zone than the site had', 'DCIM_E_SUMMARY_IMPOSSIBLE', summary({}), 'Asia/Shanghai'],
    ['a window ending beyond the skew', 'DCIM_E_SUMMARY_AHEAD', summary({ window_start: NOW, window_end: NOW + QUARTER, generated_ms: NOW }), undefined],
    ['generated exactly at the skew', 'ok', summary({ window_start: NOW - QUARTER, window_end: NOW, generated_ms: NOW + 300_000 }), undefined],
  ] as const)('%s → %s', (_name, want, s, tz) => {
    expect(code(check(s, undefined, tz))).toBe(want);
  });

  it('refuses what is not a summary topic, and a body that is not JSON, before anything else', () => {
    expect(check(summary({}), 'dcim/v1/s1/kpi')).toMatchObject({ ok: false, code: 'DCIM_E_SUMMARY_INVALID' });
    expect(check('[1,')).toMatchObject({ ok: false, code: 'DCIM_E_SUMMARY_INVALID', reason: 'payload is not JSON' });
    expect(check(summary({ site: 'zz' }))).toMatchObject({ ok: false, code: 'DCIM_E_SUMMARY_UNKNOWN_SITE', site: 'zz' });
  });
});
