import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueOf, KPI_MODULE_DIR, KPI_REGISTRY, loadKpiModules, type KpiModule } from '../../../../collector/kpi/registry/index.js';
import { liveTiles, livePageHtml } from '../../../../collector/live/live-page.js';
import { buildMonthlyReport, rowFigure, type ReportScope } from '../../../../collector/report/monthly-report.js';
import { renderCsv, reportColumns } from '../../../../collector/report/report-csv.js';
import { renderHtml } from '../../../../collector/report/report-html.js';
import { reportLayout } from '../../../../collector/report/report-layout.js';
import { renderText } from '../../../../collector/report/report-text.js';
import { storeSchema } from '../../../../collector/store/kpi-schema.js';
import type { KpiValue } from '../../../../contract/messages.js';
import { checkRendered, renderDashboards } from '../../../../dashboards/render.js';
import { loadProfiles } from '../../../../profiles/catalogue.js';

/**
 * A KPI module dropped into the registry's folder with view declarations is in the monthly report,
 * the live page's tiles and the site-operations dashboard, with no edit anywhere else. The drop is
 * played in a scratch copy of the folder beside the real one (as index.test.ts does), and each view
 * is built from that registry the way the collector builds it from the real one.
 */
const NAME = 'water_usage_l_per_kwh';
const MODULE = `export default {
  name: '${NAME}',
  order: 85,
  spec: { windows: ['1d', '1mo'], site_basis: ['energy'], cluster_basis: [], inputs: ['water_l', 'it_kwh'] },
  display: { label: { 'zh-CN': '水利用效率', en: 'Water usage effectiveness' }, format: { scale: 1, digits: 2, unit: ' L/kWh' } },
  views: {
    report: { column: 65, figures: [{ field: 'water_usage_month', window: '1mo', html: {} }], text: ['water_usage_month'], rank: { by: 'water', at: 5 } },
    live: { tiles: [{ at: 65, windows: ['1d', '1mo'] }] },
    dashboard: { panel: 'stat', windows: ['1mo'], at: 10 },
  },
  site: ({ edge }) => [{ kpi: '${NAME}', window: '1mo', window_start: edge - 86400000, window_end: edge, basis: 'energy', ok: true, value: 1.8, quality: 'measured', status: 'grey', coverage: 1 }],
};
`;

let dir: string;
let mods: readonly KpiModule[];
beforeAll(async () => {
  dir = mkdtempSync(join(dirname(KPI_MODULE_DIR), 'kpis-scratch-'));
  for (const f of readdirSync(KPI_MODULE_DIR)) copyFileSync(join(KPI_MODULE_DIR, f), join(dir, f));
  writeFileSync(join(dir, 'water-usage.ts'), MODULE);
  mods = await loadKpiModules(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AT = Date.UTC(2026, 1, 28, 16, 1);
const value = (kpi: string, window: KpiValue['window'], v: number): KpiValue => ({ kpi, window, window_start: AT - 86_400_000, window_end: AT, basis: 'energy', ok: true, value: v, quality: 'measured', coverage: 1, status: 'grey' });
const scopes = (water: number[]): ReportScope[] =>
  water.map((w, i) => ({ kind: 'site', summary: { id: `s${i}`, name: `Site ${i}` }, kpis: { schema: 1, site: `s${i}`, ts: AT, kpis: [value('pue', '1mo', 1.3), value(NAME, '1mo', w)] } }));

describe('a KPI module with view declarations, dropped into the folder', () => {
  it('the monthly report: a json field, csv columns, a text line, an html column and a ranking', () => {
    const layout = reportLayout(mods);
    const report = buildMonthlyReport('2026-02', scopes([1.8, 1.25]), AT, 'test', { layout, rank_by: 'water' });
    expect(rowFigure(report.rows[0]!, 'water_usage_month')).toMatchObject({ value: 1.8, window: '1mo', quality: 'measured' });
    // Its column sits where `column` 65 puts it: after the accelerators (60), before PUE (70).
    const keys = Object.keys(report.rows[0]!);
    expect(keys.indexOf('water_usage_month')).toBe(keys.indexOf('accelerator_utilisation_pct') + 1);
    expect(reportColumns(layout)).toEqual(expect.arrayContaining(['water_usage_month', 'water_usage_month_window', 'water_usage_month_quality']));
    expect(renderCsv(report, layout).split('\r\n')[1]).toContain(',1.8,1mo,energy,measured,grey,1,');
    expect(renderText(report, 'en', layout)).toContain(`  kpi.${NAME} · month: 1.80  (month · measured · 100.0 % · no verdict)`);
    expect(renderHtml(report, 'en', layout)).toContain(`<th>kpi.${NAME} · month</th>`);
    // No target: more is better, as the compute ranking.
    expect(report.ranking!.entries.map((e) => [e.id, e.figure.value])).toEqual([['s0', 1.8], ['s1', 1.25]]);
    // The real registry's report has none of it.
    const real = buildMonthlyReport('2026-02', scopes([1.8]), AT, 'test');
    expect(Object.keys(real.rows[0]!)).not.toContain('water_usage_month');
    expect(reportColumns().join()).not.toContain('water_usage');
  });

  it("the live page: the server hands the page its tile, in its place, and the row widens by one", () => {
    const tiles = liveTiles(mods);
    expect(tiles.map((t) => `${t.kpi}/${t.windows[0]}`)).toEqual(['pue/15m', 'pue/1h', 'pue/1d', 'rack_occupancy_ratio/1d', 'green_share_ratio/1mo', 'compute_ai_pflops/instant', `${NAME}/1d`, 'compute_ai_share_ratio/instant']);
    const html = livePageHtml({ modules: mods });
    expect(html).toContain(`{"kpi":"${NAME}","windows":["1d","1mo"],"label":["kpi.${NAME}"]}`);
    expect(html).toContain('repeat(8,minmax(0,1fr))');
    expect(livePageHtml()).not.toContain(NAME);
    expect(livePageHtml()).toContain('repeat(7,minmax(0,1fr))');
  });

  it('the dashboards: a panel in the site-operations KPIs row whose query the store schema of that registry accepts', () => {
    const rendered = renderDashboards(mods);
    const site = rendered.find((r) => r.uid === 'dcim-site-operations')!;
    const d = JSON.parse(site.text) as { panels: { type: string; title: string; targets?: { query: string }[] }[] };
    const row = d.panels.findIndex((p) => p.type === 'row' && p.title === 'KPIs');
    expect(row).toBeGreaterThan(0);
    expect(d.panels.slice(row + 1).map((p) => [p.type, p.title])).toEqual([['stat', 'Water usage effectiveness']]);
    expect(d.panels[row + 1]!.targets![0]!.query).toContain(`"kpi" = '${NAME}'`);
    expect(checkRendered(rendered, storeSchema(loadProfiles().values(), mods), catalogueOf(mods))).toEqual([]);
    // The other dashboards and the real registry's are as committed.
    const real = renderDashboards(KPI_REGISTRY);
    expect(rendered.filter((r) => r.uid !== 'dcim-site-operations')).toEqual(real.filter((r) => r.uid !== 'dcim-site-operations'));
    expect(real.find((r) => r.uid === 'dcim-site-operations')!.text).not.toContain(NAME);
  });
});
