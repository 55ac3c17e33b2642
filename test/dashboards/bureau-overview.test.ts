import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../profiles/catalogue.js';
import { storeSchema } from '../../collector/store/kpi-schema.js';
import { bureauOverviewIn } from '../../dashboards/bureau-overview.js';
import { checkDashboard, type DashboardJson } from '../../dashboards/check-dashboard.js';

/**
 * The bureau dashboard in both languages: the same queries (all valid against the storage
 * catalogue), titles in the language of the uid, every target figure coloured with its
 * thresholds at the targets (PUE ≤ 1.2, 上架率 ≥ 70 %, 绿电占比 ≥ 80 %, 智算占比 ≥ 90 %), the
 * ranking sorted by the month-to-date PUE, the trends over 90 days.
 */
interface Step {
  color: string;
  value: number | null;
}
interface Panel {
  type: string;
  title: string;
  description?: string;
  timeFrom?: string;
  options?: { sortBy?: { displayName: string; desc: boolean }[] };
  targets?: { query: string }[];
  fieldConfig?: { defaults: { thresholds?: { steps: Step[] } }; overrides: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] };
  transformations?: { id: string; options: Record<string, unknown> }[];
}
interface Dash {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { type: string; name: string; label?: string }[] };
}

const schema = storeSchema(loadProfiles().values());
const en = JSON.parse(JSON.stringify(bureauOverviewIn('en'))) as Dash;
const zh = JSON.parse(JSON.stringify(bureauOverviewIn('zh-CN'))) as Dash;
const HAN = /[\u4e00-\u9fff]/;

const panel = (d: Dash, title: string | RegExp) => {
  const p = d.panels.find((x) => x.type !== 'row' && (typeof title === 'string' ? x.title === title : title.test(x.title)));
  if (!p) throw new Error(`${d.uid}: no panel ${String(title)}`);
  return p;
};
const thresholdsOf = (p: Panel, column: string): Step[] | undefined =>
  (p.fieldConfig?.overrides.find((o) => o.matcher.options === column)?.properties.find((x) => x.id === 'thresholds')?.value as { steps: Step[] } | undefined)?.steps;
/** The value from which a colour starts: green from the target up (higher is better) or up to it (PUE). */
const greenFrom = (steps: Step[] | undefined) => steps?.find((s) => s.color === 'green')?.value;
const orangeFrom = (steps: Step[] | undefined) => steps?.find((s) => s.color === 'orange')?.value;

describe('bureau overview, zh-CN and en', () => {
  it('has the same panels and queries in both languages, every one valid against the storage schema', () => {
    expect(checkDashboard(en as unknown as DashboardJson, schema)).toEqual([]);
    expect(checkDashboard(zh as unknown as DashboardJson, schema)).toEqual([]);
    expect(zh.panels.map((p) => p.type)).toEqual(en.panels.map((p) => p.type));
    // Aliases are words of the language; the rest of each query is the same.
    const shape = (d: Dash) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.query.replace(/ AS "[^"]*"/g, ' AS _')));
    expect(shape(zh)).toEqual(shape(en));
    expect(en.uid).toBe('dcim-bureau-overview');
    expect(zh.uid).toBe('dcim-bureau-overview-zh-cn');
  });

  it('titles, descriptions and variable labels are Chinese in zh-CN and English in en, with the plan\'s terms', () => {
    for (const p of zh.panels) expect(p.title, p.title).toMatch(HAN);
    for (const p of zh.panels) if (p.type !== 'row') expect(p.description, p.title).toMatch(HAN);
    for (const v of zh.templating.list.filter((x) => x.type === 'custom')) expect(v.label).toMatch(HAN);
    expect(zh.title).toBe('DCIM · 大数据局总览');
    const zhText = JSON.stringify(zh.panels);
    for (const term of ['PUE', '上架率', '绿电占比', '算力规模', '智算占比']) expect(zhText).toContain(term);
    // English titles: Latin words (a Chinese term may stand beside the English one).
    for (const p of en.panels) expect(p.title.replace(/[（(][^)）]*[)）]/g, ''), p.title).not.toMatch(HAN);
    expect(en.title).toBe('DCIM · Bureau overview');
  });

  it.each([
    ['en', en],
    ['zh-CN', zh],
  ] as const)('%s: the traffic lights have their thresholds at the targets', (_, d) => {
    const zhLang = d === zh;
    for (const title of [/^(Ranking|排名)/, /^(Sites and clusters|站点与集群对标)/]) {
      const p = panel(d, title);
      const pue = thresholdsOf(p, 'PUE');
      expect(orangeFrom(pue), `${p.title} PUE`).toBe(1.2); // green up to 1.2 (lower is better)
      expect(pue?.find((s) => s.color === 'red')?.value).toBe(1.25);
      expect(greenFrom(thresholdsOf(p, zhLang ? '上架率' : 'Occupancy')), `${p.title} occupancy`).toBe(0.7);
      expect(greenFrom(thresholdsOf(p, zhLang ? '绿电占比' : 'Green share')), `${p.title} green`).toBe(0.8);
    }
    const compute = panel(d, /^(Compute monitoring|算力监测)/);
    expect(greenFrom(thresholdsOf(compute, zhLang ? '智算占比' : 'Intelligent-compute share'))).toBe(0.9);
    // Each compute figure has its quality column.
    const queries = compute.targets!.map((t) => t.query);
    expect(queries.every((q) => q.includes('"quality" AS'))).toBe(true);
    expect(queries[0] ?? '').toMatch(/"value" \/ 1000 AS "[^"]*EFLOPS/);
  });

  it.each([
    ['en', en],
    ['zh-CN', zh],
  ] as const)('%s: ranks the sites by their month-to-date PUE, lowest first, and shows 90 days of daily trends', (_, d) => {
    const ranking = panel(d, /^(Ranking|排名)/);
    expect(ranking.options?.sortBy).toEqual([{ displayName: 'PUE', desc: false }]);
    expect(ranking.targets![0]!.query).toMatch(/"kpi" = 'pue' AND "window" = '1mo' AND "basis" IN|"window" = '1mo'/);
    // Sites only: a cluster's energy-weighted figure is not ranked among the sites.
    for (const t of ranking.targets!) expect(t.query).not.toMatch(/energy_weighted|pooled/);
    const trends = d.panels.filter((p) => p.timeFrom !== undefined);
    expect(trends.map((p) => p.timeFrom)).toEqual(['90d', '90d', '90d']);
    expect(trends.map((p) => /'(pue|rack_occupancy_ratio|green_share_ratio)'/.exec(p.targets![0]!.query)?.[1])).toEqual(['pue', 'rack_occupancy_ratio', 'green_share_ratio']);
    for (const p of trends) expect(p.targets![0]!.query).toContain(`"window" = '1d'`);
  });
});
