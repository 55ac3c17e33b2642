import { describe, expect, it } from 'vitest';
import { buildMonthlyReport, RANK_BY, type ReportScope } from '../../../collector/report/monthly-report.js';
import { renderCsv, renderRankingCsv } from '../../../collector/report/report-csv.js';
import { renderHtml } from '../../../collector/report/report-html.js';
import { renderText } from '../../../collector/report/report-text.js';
import type { KpiValue, KpiWindow } from '../../../contract/messages.js';

/**
 * The report's every output (text, html and csv in both languages, the json, each ranking) for a
 * fixed set of figures, against files kept beside this test: what the report shows is chosen by
 * the KPI modules' declarations, and this pins that today's KPIs come out byte for byte as they
 * did when the layout was spelled in the report's code.
 */
const AT = Date.UTC(2026, 1, 28, 16, 1);
const DAY = 86_400_000;
let n = 0;
function kpi(name: string, window: KpiWindow, value: number | undefined, o: Partial<KpiValue> = {}): KpiValue {
  n += 1;
  const ok = value !== undefined;
  return {
    kpi: name,
    window,
    window_start: AT - DAY * 28,
    window_end: AT,
    basis: window === 'instant' ? 'sum' : 'energy',
    ok,
    ...(ok ? { value } : { reason: `no ${name} figure` }),
    quality: ok ? (n % 3 === 0 ? 'partial' : 'measured') : 'insufficient',
    coverage: ok ? 1 - (n % 7) / 100 : 0.4,
    status: ok ? (['green', 'amber', 'red'] as const)[n % 3]! : 'grey',
    target: n % 4 === 0 ? undefined : 0.7,
    ...o,
  };
}
const energyInputs = (f: number) => ({ facility_kwh: 1200 * f, facility_measured_kwh: 1100 * f, facility_substituted_kwh: 100 * f, facility_coverage: 0.97, it_kwh: 1000 * f, it_measured_kwh: 1000 * f, it_substituted_kwh: 0, it_coverage: 1 });
const greenInputs = (f: number) => ({ green_onsite_measured_kwh: 50 * f, green_onsite_coverage: 0.5, green_feed_kwh: 300 * f, green_feed_measured_kwh: 300 * f, green_feed_substituted_kwh: 0, green_feed_coverage: 1, certificate_kwh: 2000, trade_kwh: 500 * f });

function site(f: number, missing: readonly string[] = []): KpiValue[] {
  const all: KpiValue[] = [
    kpi('pue_live', 'instant', 1.2 * f),
    kpi('pue', '15m', 1.21 * f),
    kpi('pue', '1mo', 1.18 * f, { category: 2, inputs_version: 2, inputs: energyInputs(f) }),
    kpi('pue', '12mo', 1.23 * f, { category: 2 }),
    kpi('pue', 'ytd', 1.19 * f),
    kpi('pue', '1y', 1.31 * f),
    kpi('green_share_ratio', '1mo', 0.61 / f, { inputs_version: 2, inputs: greenInputs(f) }),
    kpi('green_share_ratio', 'ytd', 0.58 / f),
    kpi('green_share_ratio', '1y', 0.44 / f),
    kpi('rack_occupancy_ratio', '1d', 0.66 / f, { inputs: { racks_available: 40, racks_reserved: 4, racks_planned: 6, racks_on: 29, standard_racks_available: 80, standard_racks_on: 57 } }),
    kpi('rack_occupancy_ratio', '1mo', 0.64 / f),
    kpi('it_load_utilisation_ratio', '1mo', 0.42 / f),
    kpi('cooling_load_factor_ratio', '1mo', 0.3 * f),
    kpi('compute_ai_pflops', 'instant', 12.3456 * f),
    kpi('compute_general_pflops', 'instant', 3.21 * f),
    kpi('compute_ai_share_ratio', 'instant', 0.79 / f),
    kpi('accelerator_utilisation_pct', 'instant', 71.25 / f),
  ];
  return all.filter((k) => !missing.includes(`${k.kpi}/${k.window}`));
}

const scopes: ReportScope[] = [
  { kind: 'site', summary: { id: 'sh-01', name: 'Shanghai "one", east', timezone: 'Asia/Shanghai' }, kpis: { schema: 1, site: 'sh-01', ts: AT, kpis: site(1) } },
  {
    kind: 'site',
    summary: { id: 'sh-02', name: 'Shanghai two' },
    kpis: { schema: 1, site: 'sh-02', ts: AT, kpis: site(1.1, ['pue/1mo', 'compute_ai_pflops/instant', 'green_share_ratio/1y']) },
    reporting: { status: 'late', days_expected: 28, days_reported: 27, days_missing: ['2026-02-03'], days_late: ['2026-02-09'], max_delay_ms: 30 * 3_600_000, late_after_ms: DAY },
  },
  { kind: 'site', summary: { id: 'sh-03', name: 'Shanghai three' }, kpis: undefined, no_data: 'no stored summaries of site sh-03 for 2026-02', reporting: { status: 'silent', days_expected: 28, days_reported: 0, days_missing: [], days_late: [], max_delay_ms: null, late_after_ms: DAY } },
  { kind: 'site', summary: { id: 'sh-04', name: 'Shanghai four' }, kpis: { schema: 1, site: 'sh-04', ts: AT, kpis: site(0.95) } },
  { kind: 'cluster', summary: { id: 'east', name: 'East', sites: ['sh-01', 'sh-02', 'sh-03', 'sh-04'] }, kpis: { schema: 1, site: 'east', ts: AT, kpis: site(1.05).map((k) => ({ ...k, basis: k.basis === 'energy' ? 'energy_weighted' : k.basis })) } },
];

const file = (name: string) => `./golden/${name}`;

describe('monthly report: every output of a fixed month, unchanged', () => {
  const plain = buildMonthlyReport('2026-02', scopes, AT, 'golden', { source_kind: 'store', as_of_ms: AT });
  it('json', async () => {
    await expect(`${JSON.stringify(plain, null, 2)}\n`).toMatchFileSnapshot(file('report.json'));
  });
  it('csv', async () => {
    await expect(renderCsv(plain)).toMatchFileSnapshot(file('report.csv'));
  });
  it.each(['zh-CN', 'en'] as const)('text and html (%s)', async (lang) => {
    await expect(renderText(plain, lang)).toMatchFileSnapshot(file(`report.${lang}.txt`));
    await expect(renderHtml(plain, lang)).toMatchFileSnapshot(file(`report.${lang}.html`));
  });
  it.each(RANK_BY.map((by) => [by]))('ranked by %s: json, csv, text and html', async (by) => {
    const ranked = buildMonthlyReport('2026-02', scopes, AT, 'golden', { rank_by: by });
    await expect(`${JSON.stringify(ranked.ranking, null, 2)}\n`).toMatchFileSnapshot(file(`ranking-${by}.json`));
    await expect(renderRankingCsv(ranked)).toMatchFileSnapshot(file(`ranking-${by}.csv`));
    await expect(renderText(ranked, 'en')).toMatchFileSnapshot(file(`ranked-${by}.en.txt`));
    await expect(renderHtml(ranked, 'zh-CN')).toMatchFileSnapshot(file(`ranked-${by}.zh-CN.html`));
  });
});
