import { describe, expect, it } from 'vitest';
import { buildMonthlyReport, energyFigure, ENERGY_SIDES, type ReportScope } from '../../../collector/report/monthly-report.js';
import { renderCsv, reportColumns } from '../../../collector/report/report-csv.js';
import { renderHtml } from '../../../collector/report/report-html.js';
import type { KpiValue } from '../../../contract/messages.js';
import { simulateMonth } from './simulated-month.js';

/**
 * The month's energy in the report after 25 minutes of the demo seed (polled every 2 s): the month
 * window is insufficient, so every energy column says so and carries only what was measured —
 * never the 25 minutes scaled to the month (which put 18,933 kWh of facility energy in the CSV).
 */
const TZ_OFFSET = 8 * 3_600_000; // seeds/demo.yaml is Asia/Shanghai
const EDGE = Date.UTC(2026, 1, 10, 10) - TZ_OFFSET; // 2026-02-10 10:00 local
const FROM = EDGE - 25 * 60_000;
const AT = EDGE + 90_000; // settled edge: 10:00

const { engine, inventory } = simulateMonth(FROM, AT, 2_000);
const kpis = engine.evaluate(inventory.site.id, AT);
const pick = (kpi: string, window: string) => kpis.find((k) => k.kpi === kpi && k.window === window)!;
const scope = (values: KpiValue[]): ReportScope => ({
  kind: 'site',
  summary: { id: inventory.site.id, name: inventory.site.name, timezone: inventory.site.timezone },
  kpis: { schema: 1, site: inventory.site.id, ts: AT, kpis: values },
});

describe('monthly report: energy of a month the collector saw 25 minutes of', () => {
  const report = buildMonthlyReport('2026-02', [scope(kpis)], AT, 'test');
  const row = report.rows[0]!;
  const hour = pick('pue', '1h').inputs!;
  const quarter = pick('pue', '15m').inputs!;

  it('the API: the month holds the same measured energy as the hour it started in, and no total', () => {
    expect(pick('pue', '1mo')).toMatchObject({ ok: false, quality: 'insufficient' });
    expect(pick('pue', '1mo').inputs).toMatchObject({ facility_measured_kwh: hour.facility_measured_kwh, it_measured_kwh: hour.it_measured_kwh, facility_substituted_kwh: 0 });
    // 25 minutes of a site whose last full quarter hour drew `quarter.facility_kwh`: under twice that, not ×880.
    expect(hour.facility_measured_kwh!).toBeGreaterThan(quarter.facility_kwh!);
    expect(hour.facility_measured_kwh!).toBeLessThan(2 * quarter.facility_kwh!);
  });

  it.each(ENERGY_SIDES)('json %s: measured only, labelled so, no total', (side) => {
    const e = row.energy[side];
    expect(e).toMatchObject({ state: 'measured_only', kwh: null, substituted_kwh: 0 });
    expect(e.measured_kwh).not.toBeNull();
    expect(e.coverage).toBeLessThan(0.8);
  });

  it('json: the facility side is the 25 measured minutes', () => {
    expect(row.energy.facility.measured_kwh).toBe(hour.facility_measured_kwh);
    expect(row.pue_month).toMatchObject({ value: null, quality: 'insufficient' });
    expect(row.green_share).toMatchObject({ value: null, quality: 'insufficient' });
  });

  it.each([
    ['zh-CN', '总用电：数据不足，实测'],
    ['en', 'facility: insufficient,'],
  ] as const)('html (%s): each side says insufficient with the measured energy, never a month total', (lang, words) => {
    const html = renderHtml(report, lang);
    const measured = row.energy.facility.measured_kwh!.toLocaleString('en-US', { maximumFractionDigits: 1 });
    expect(html).toContain(`${words} ${measured}`);
    for (const side of ENERGY_SIDES) expect(html).toContain(row.energy[side].measured_kwh!.toLocaleString('en-US', { maximumFractionDigits: 1 }));
  });

  it('html: a window within the bound shows its total and names the substituted part', () => {
    const e = { state: 'total' as const, kwh: 1_234.5, measured_kwh: 1_200, substituted_kwh: 34.5, coverage: 0.97 };
    const html = renderHtml({ ...report, rows: [{ ...row, energy: { ...row.energy, facility: e } }] }, 'en');
    expect(html).toContain('facility 1,234.5 (of which 34.5 substituted)');
  });

  it('csv: every energy total column says insufficient; the measured column has the measured energy', () => {
    const [head, line] = renderCsv(report).split('\r\n');
    const cols = head!.split(',');
    expect(cols).toEqual(reportColumns());
    // RFC 4180 cells: the demo site's name is quoted (it holds a comma).
    const values = [...line!.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1]!.replace(/^"|"$/g, '').replace(/""/g, '"'));
    expect(values).toHaveLength(cols.length);
    const cells = Object.fromEntries(cols.map((c, i) => [c, values[i]]));
    for (const side of ENERGY_SIDES) {
      expect(cells[`${side}_kwh`], side).toBe('insufficient');
      expect(cells[`${side}_substituted_kwh`], side).toBe('0');
    }
    expect(Number(cells.facility_measured_kwh)).toBe(hour.facility_measured_kwh);
    expect(Number(cells.facility_coverage)).toBeLessThan(0.01);
    expect(cols).not.toContain('green_facility_kwh');
  });

  it('a full quarter hour within the bound is a total, with its parts', () => {
    expect(energyFigure(pick('pue', '15m'), 'facility')).toEqual({ state: 'total', kwh: quarter.facility_kwh, measured_kwh: quarter.facility_measured_kwh, substituted_kwh: quarter.facility_substituted_kwh, coverage: 1 });
  });

  it('figures from a collector without named energy inputs show no energy at all', () => {
    // What an older collector published: one facility_kwh scaled up from 25 minutes to the month.
    const old = kpis.map((k) => {
      if (k.window !== '1mo' || k.inputs_version === undefined) return k;
      const { inputs_version: _v, ...rest } = k;
      return { ...rest, inputs: { facility_kwh: 18_933, it_kwh: 15_000, green_onsite_kwh: 400, green_feed_kwh: 6_000 } };
    });
    const r = buildMonthlyReport('2026-02', [scope(old)], AT, 'test').rows[0]!;
    for (const side of ENERGY_SIDES) expect(r.energy[side]).toEqual({ state: 'unavailable', kwh: null, measured_kwh: null, substituted_kwh: null, coverage: null });
    expect(renderCsv(buildMonthlyReport('2026-02', [scope(old)], AT, 'test'))).not.toContain('18933');
  });
});

describe('rankSites', () => {
  const at = Date.UTC(2026, 1, 28);
  const k = (kpi: string, window: KpiValue['window'], value: number | undefined): KpiValue => ({ kpi, window, window_start: at - 1, window_end: at, basis: 'b', ok: value !== undefined, ...(value !== undefined ? { value } : {}), quality: value !== undefined ? 'measured' : 'insufficient', coverage: 1, status: 'green' });
  const site = (id: string, occ: number | undefined, ai: number | undefined, general: number): ReportScope => ({
    kind: 'site',
    summary: { id, name: id },
    kpis: { schema: 1, site: id, ts: at, kpis: [k('rack_occupancy_ratio', '1mo', occ), ...(ai !== undefined ? [k('compute_ai_pflops', 'instant', ai)] : []), k('compute_general_pflops', 'instant', general)] },
  });
  const scopes = [site('a', 0.6, 10, 1), site('b', 0.9, undefined, 50), site('c', undefined, 30, 2), { kind: 'cluster' as const, summary: { id: 'x', name: 'x', sites: ['a', 'b', 'c'] }, kpis: undefined }];
  const rank = (by: 'occupancy' | 'compute') => buildMonthlyReport('2026-02', scopes, at, 't', { rank_by: by }).ranking!.entries.map((e) => [e.rank, e.id]);

  it('occupancy: highest first; a site without a value is listed unranked; the cluster is not ranked', () => {
    expect(rank('occupancy')).toEqual([
      [1, 'b'],
      [2, 'a'],
      [null, 'c'],
    ]);
  });

  it('compute: by the AI (FP16) figure, highest first, never mixed with FP32', () => {
    expect(rank('compute')).toEqual([
      [1, 'c'],
      [2, 'a'],
      [null, 'b'],
    ]);
  });
});
