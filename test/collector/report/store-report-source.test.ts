import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSummaries } from '../../../collector/federation/stored-summaries.js';
import { summaryPoint } from '../../../collector/federation/summary-points.js';
import { buildMonthlyReport, type MonthlyReport, rowFigure } from '../../../collector/report/monthly-report.js';
import { storeReportScopes, type StoreReportOptions } from '../../../collector/report/store-report-source.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import type { KpiValue } from '../../../contract/messages.js';
import type { StoredSummaries } from '../../../collector/federation/summary-store.js';
import { subDayRanges } from '../../../collector/report/store-report-source.js';
import { siteCalendar } from '../../../shared/time/site-calendar.js';
import { CLUSTER, FEB1, FEB27_NOON, MAR1, SETTLE, SITES, summariseTwoMonths, type Scenario } from './support/summarised-sites.js';

/**
 * The report of a past month from a real SQLite store: three sites' collectors summarised January
 * and February 2026 as they ran and stored every summary; a fresh store handle (a restarted
 * process that holds nothing else) reads them back, and the report's figures must be the ones the
 * engine that produced the summaries computed as of each month's end.
 */
const dir = mkdtempSync(join(tmpdir(), 'dcim-report-store-'));
const path = join(dir, 'dcim.sqlite');
let scenario: Scenario;
let store: SqliteSummaries;
let reader: SqliteSink;

beforeAll(async () => {
  scenario = summariseTwoMonths();
  // The store's clock is the end of the run: quarter hours and hours older than its retention are pruned.
  const sink = new SqliteSink({ path, clock: new ManualClock(MAR1 + 2 * 3_600_000) });
  for (const s of scenario.summaries) sink.write([summaryPoint(s)]);
  await sink.flush();
  await sink.close();
  reader = new SqliteSink({ path });
  store = new SqliteSummaries(reader);
}, 120_000);

afterAll(async () => {
  await reader?.close();
  rmSync(dir, { recursive: true, force: true });
});

const KNOWN = SITES.map((id) => ({ id, name: `Site ${id}` }));
const options = (month: string, o: Partial<StoreReportOptions> = {}): StoreReportOptions => ({ month, sites: KNOWN, clusters: [CLUSTER], settle_ms: SETTLE, now_ms: MAR1 + 3 * 3_600_000, ...o });

async function report(month: string, o: Partial<StoreReportOptions> = {}, rank_by?: 'pue'): Promise<MonthlyReport> {
  const { scopes, as_of_ms } = await storeReportScopes(store, options(month, o));
  return buildMonthlyReport(month, scopes, MAR1, path, { source_kind: 'store', as_of_ms, ...(rank_by ? { rank_by } : {}) });
}

/** The month figures and verdicts of a report row. */
const COMPARED = [
  ['pue', '1mo'],
  ['pue', 'ytd'],
  ['pue', '12mo'],
  ['pue', '1y'],
  ['green_share_ratio', '1mo'],
  ['green_share_ratio', 'ytd'],
  ['green_share_ratio', '1y'],
  ['rack_occupancy_ratio', '1mo'],
  ['it_load_utilisation_ratio', '1mo'],
] as const;

const pick = (vals: readonly KpiValue[], kpi: string, window: string, basis?: string) => vals.find((v) => v.kpi === kpi && v.window === window && (basis === undefined || v.basis === basis));

describe('a past month from stored summaries, read back by a fresh process', () => {
  it.each([
    ['2026-01', 'hs'],
    ['2026-01', 'hs2'],
    ['2026-01', 'hs3'],
    ['2026-02', 'hs'],
    ['2026-02', 'hs2'],
  ] as const)('%s %s: every month figure and verdict is the engine’s as of the month end', async (month, site) => {
    const { scopes } = await storeReportScopes(store, options(month, { site }));
    expect(scopes).toHaveLength(1);
    const got = scopes[0]!.kpis!.kpis;
    const engine = scenario.atMonthEnd[month][site]!;
    for (const [kpi, window] of COMPARED) {
      const want = pick(engine, kpi, window);
      expect(want, `${kpi} ${window}`).toBeDefined();
      expect(pick(got, kpi, window), `${site} ${kpi} ${window}`).toEqual(want);
    }
    // The month is measured, and January's PUE is the hand-checked one (130 kW / 100.5 kW at hs).
    expect(pick(got, 'pue', '1mo')).toMatchObject({ ok: true, quality: 'measured' });
    if (site === 'hs') expect(pick(got, 'pue', '1mo')!.value).toBeCloseTo(130 / 100.5, 3);
    // The row shows the same values.
    const row = buildMonthlyReport(month, scopes, MAR1, path).rows[0]!;
    expect(rowFigure(row, 'pue_month').value).toBe(pick(engine, 'pue', '1mo')!.value);
    expect(rowFigure(row, 'pue_ytd').value).toBe(pick(engine, 'pue', 'ytd')!.value);
    expect(rowFigure(row, 'green_share').value).toBe(pick(engine, 'green_share_ratio', '1mo')!.value);
    expect(rowFigure(row, 'green_share_ytd')).toMatchObject({ value: pick(engine, 'green_share_ratio', 'ytd')!.value, quality: 'measured' });
    expect(rowFigure(row, 'rack_occupancy').value).toBe(pick(engine, 'rack_occupancy_ratio', '1mo')!.value);
    expect(rowFigure(row, 'it_load_utilisation').value).toBe(pick(engine, 'it_load_utilisation_ratio', '1mo')!.value);
  });

  it('February year to date spans January and February; the annual verdict of 2025 has no data and says so', async () => {
    const row = (await report('2026-02', { site: 'hs' })).rows[0]!;
    expect(rowFigure(row, 'pue_ytd')).toMatchObject({ quality: 'measured', window: 'ytd' });
    expect(rowFigure(row, 'pue_1y')).toMatchObject({ value: null, quality: 'insufficient', window: '1y' });
    // Two months of a trailing year are not a verdict.
    expect(rowFigure(row, 'pue_12mo')).toMatchObject({ value: null, quality: 'insufficient' });
  });

  it('the cluster of January: pooled and mean-of-sites figures are the engine’s roll-up', async () => {
    const { scopes } = await storeReportScopes(store, options('2026-01', { cluster: 'c1' }));
    expect(scopes.map((s) => `${s.kind}:${s.summary.id}`)).toEqual(['site:hs', 'site:hs2', 'site:hs3', 'cluster:c1']);
    const got = scopes[3]!.kpis!.kpis;
    const engine = scenario.atMonthEnd['2026-01'].c1!;
    let compared = 0;
    for (const [kpi, window] of COMPARED) {
      for (const want of engine.filter((v) => v.kpi === kpi && v.window === window)) {
        expect(pick(got, kpi, window, want.basis), `${kpi} ${window} ${want.basis}`).toEqual(want);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(12);
    expect(pick(got, 'pue', '1mo', 'energy_weighted')).toMatchObject({ ok: true, quality: 'measured' });
  });

  it('reporting: hs on time, hs2 late on the days its collector was down, hs3 missing the two days its collector sent nothing after', async () => {
    const rows = (await report('2026-02', { cluster: 'c1' })).rows;
    const by = new Map(rows.map((r) => [r.id, r.reporting]));
    expect(by.get('hs')).toMatchObject({ status: 'on_time', days_expected: 28, days_reported: 28, days_missing: [], days_late: [] });
    // Feb 9 and 10 were summarised when hs2 came back (Feb 12 06:00): 54 h and 30 h after those days ended; Feb 11 6 h after.
    expect(by.get('hs2')).toMatchObject({ status: 'late', days_reported: 28, days_missing: [], days_late: ['2026-02-09', '2026-02-10'] });
    expect(by.get('hs2')!.max_delay_ms).toBe(scenario.hs2_back_ms - Date.UTC(2026, 1, 10, 0) + 8 * 3_600_000);
    expect(by.get('hs3')).toMatchObject({ status: 'missing', days_reported: 26, days_missing: ['2026-02-19', '2026-02-20'] });
    // With a two-and-a-half-day threshold hs2 is on time.
    const lenient = (await report('2026-02', { site: 'hs2', late_after_ms: 60 * 3_600_000 })).rows[0]!;
    expect(lenient.reporting).toMatchObject({ status: 'on_time', days_late: [] });
  });

  it('ranks the sites by PUE (best first) with their quality and reporting', async () => {
    const r = await report('2026-02', { cluster: 'c1' }, 'pue');
    expect(r.ranking!.entries.map((e) => [e.rank, e.id, e.reporting?.status])).toEqual([
      [1, 'hs2', 'late'],
      [2, 'hs', 'on_time'],
      [3, 'hs3', 'missing'],
    ]);
    const first = r.ranking!.entries[0]!;
    expect(first.figure).toMatchObject({ quality: 'measured', window: '1mo', target: 1.2 });
    expect(first.figure.value).toBeCloseTo((0.95 * 120 + 10) / 100.5, 3);
  });

  it('a site missing days has an occupancy month that counts those days unobserved, not the engine’s', async () => {
    const row = (await report('2026-02', { site: 'hs3' })).rows[0]!;
    const engine = pick(scenario.atMonthEnd['2026-02'].hs3!, 'rack_occupancy_ratio', '1mo')!;
    expect(engine.coverage).toBe(1);
    expect(rowFigure(row, 'rack_occupancy').coverage).toBeCloseTo(26 / 28, 6);
    // PUE of the month comes from the month summary: whole.
    expect(rowFigure(row, 'pue_month').value).toBe(pick(scenario.atMonthEnd['2026-02'].hs3!, 'pue', '1mo')!.value);
  });

  it("compute of a month whose quarter hours the store has pruned: the day summaries carry it (the compute installed when the month's last day closed)", async () => {
    const row = (await report('2026-01', { site: 'hs' })).rows[0]!;
    const engineJan = pick(scenario.atMonthEnd['2026-01'].hs!, 'compute_ai_pflops', 'instant')!.value;
    expect(engineJan).toBeGreaterThan(0);
    expect(rowFigure(row, 'compute_ai_pflops').value).toBe(engineJan);
    const feb = (await report('2026-02', { site: 'hs' })).rows[0]!;
    expect(rowFigure(feb, 'compute_ai_pflops').value).toBe(pick(scenario.atMonthEnd['2026-02'].hs!, 'compute_ai_pflops', 'instant')!.value);
  });

  it('a month with nothing stored says so per site, and the cluster has no roll-up', async () => {
    const r = await report('2025-12', { cluster: 'c1' });
    expect(r.rows).toHaveLength(4);
    for (const row of r.rows.slice(0, 3)) {
      expect(row.no_data).toMatch(new RegExp(`no stored summaries of site ${row.id} for 2025-12`));
      expect(rowFigure(row, 'pue_month').value).toBeNull();
      expect(row.reporting?.status).toBe('silent');
    }
    expect(r.rows[3]!.no_data).toMatch(/no stored summaries of any site of cluster c1/);
  });

  it('a site whose time zone the config gives, with nothing stored for the month: the same, with its days counted', async () => {
    const sites = KNOWN.map((k) => ({ ...k, timezone: 'Asia/Shanghai' }));
    const row = (await report('2025-12', { site: 'hs', sites })).rows[0]!;
    expect(row.no_data).toBe('no stored summaries of site hs for 2025-12');
    expect(row.reporting).toMatchObject({ status: 'silent', days_expected: 31, days_reported: 0 });
  });

  it("a month not begun in the site's own time zone is refused, though it has begun elsewhere", async () => {
    // Feb 28 19:00 UTC: March in Shanghai, still February in New York.
    const sites = KNOWN.map((k) => ({ ...k, timezone: 'America/New_York' }));
    await expect(storeReportScopes(store, options('2026-03', { site: 'hs', sites, now_ms: MAR1 + 3 * 3_600_000 }))).rejects.toThrow(/2026-03 has not begun at site hs \(America\/New_York\)/);
  });

  it('a cluster one of whose sites has nothing for the month: pooled figures are insufficient, naming it', async () => {
    const { scopes } = await storeReportScopes(store, options('2026-01', { cluster: 'c1', sites: KNOWN, clusters: [{ ...CLUSTER, sites: ['hs', 'ghost'] }] }));
    expect(scopes[1]!.no_data).toMatch(/ghost/);
    expect(pick(scopes[2]!.kpis!.kpis, 'pue', '1mo', 'energy_weighted')).toMatchObject({ ok: false, quality: 'insufficient', reason: expect.stringContaining('ghost') });
  });

  it('refuses a month that has not begun, an unknown site and an unknown cluster', async () => {
    await expect(storeReportScopes(store, options('2026-04'))).rejects.toThrow(/2026-04 has not begun/);
    await expect(storeReportScopes(store, options('2026-01', { site: 'nope' }))).rejects.toThrow(/no site "nope"/);
    await expect(storeReportScopes(store, options('2026-01', { cluster: 'nope' }))).rejects.toThrow(/no cluster "nope"/);
  });

  it('February in progress with a day summary lost: the day assembled from its hours, the engine’s figures', async () => {
    const lost = FEB1 + 24 * 86_400_000; // Feb 25 local
    const calls: string[] = [];
    const partial: StoredSummaries = {
      summaries: async (site, w, a, b) => {
        calls.push(`${w} ${new Date(a).toISOString()} ${new Date(b).toISOString()}`);
        return (await store.summaries(site, w, a, b)).filter((s) => !(s.window === '1d' && s.window_start === lost));
      },
      sites: () => store.sites(),
      skipped: 0,
    };
    const now = FEB27_NOON + SETTLE;
    const { scopes } = await storeReportScopes(partial, options('2026-02', { site: 'hs', now_ms: now }));
    const got = scopes[0]!.kpis!.kpis;
    for (const [kpi, window] of [['pue', '1mo'], ['pue', 'ytd'], ['green_share_ratio', '1mo'], ['it_load_utilisation_ratio', '1mo']] as const) {
      expect(pick(got, kpi, window), `${kpi} ${window}`).toEqual(pick(scenario.hsFeb27Noon, kpi, window));
    }
    expect(pick(got, 'pue', '1mo')).toMatchObject({ ok: true, quality: 'measured', window_end: FEB27_NOON });
    // Hours and quarter hours are read for the lost day and from the last complete day (Feb 26) on, nowhere else.
    expect(calls.filter((c) => c.startsWith('15m'))).toEqual(['15m 2026-02-24T16:00:00.000Z 2026-02-27T04:00:00.000Z']);
    expect(scopes[0]!.reporting).toMatchObject({ status: 'missing', days_missing: ['2026-02-25'], days_expected: 26 });
  });

  it('subDayRanges: missing days and the tail, merged where they touch', () => {
    const cal = siteCalendar('Asia/Shanghai');
    const day = (n: number) => FEB1 + (n - 1) * 86_400_000;
    const held = new Set(Array.from({ length: 28 }, (_, i) => day(i + 1)).filter((d) => d !== day(3) && d !== day(4) && d !== day(27)));
    expect(subDayRanges(cal, FEB1, MAR1, held)).toEqual([
      [day(3), day(5)],
      [day(27), MAR1],
    ]);
  });

  it('the month in progress is evaluated as of now', async () => {
    const now = MAR1 + 3_600_000 + SETTLE;
    const { scopes, as_of_ms } = await storeReportScopes(store, options('2026-03', { site: 'hs', now_ms: now }));
    expect(as_of_ms).toBe(now);
    expect(pick(scopes[0]!.kpis!.kpis, 'pue', '1mo')).toMatchObject({ window_start: MAR1, window_end: MAR1 + 3_600_000 });
  });
});
