import { describe, expect, it } from 'vitest';
import { bureauView, type BureauSample, type BureauViewInput } from '../../../../collector/live/page/bureau-view.js';
import { pickKpi } from '../../../../collector/live/page/kpi-pick.js';
import { CATALOGUE, type Lang } from '../../../../collector/i18n/catalogue.js';
import type { KpiMessage } from '../../../../contract/messages.js';
import { CLUSTER_KPIS, CLUSTERS, dayMessage, FIGURES, LAST_DAY_END, REPORTS, SITES, siteKpis } from './bureau-fixture.js';

/**
 * The bureau view as a pure function: sites ranked by month-to-date PUE (no value last), each
 * figure's traffic light (the collector's status; 智算占比 against the plan's 90 %), reporting
 * state from /api/bureau/sites (on time, late, silent, never), the daily PUE sparkline, the
 * cluster's two bases, in zh-CN and English.
 */
const DAY = 86_400_000;

function input(): BureauViewInput {
  const msgs: Record<string, KpiMessage> = { 'cluster/guian': CLUSTER_KPIS };
  const daily: Record<string, BureauSample[]> = {};
  for (const id of Object.keys(FIGURES)) {
    const f = FIGURES[id]!;
    msgs[`site/${id}`] = siteKpis(id, f, f.dayPue.at(-1));
    daily[id] = f.dayPue.map((value, i) => ({ ts_ms: LAST_DAY_END - (f.dayPue.length - 1 - i) * DAY, value }));
  }
  return { sites: SITES, clusters: CLUSTERS, msgs, reports: Object.fromEntries(REPORTS.map((r) => [r.site, r])), daily, days: 14 };
}

function render(lang: Lang, i = input()): string {
  const t = (key: string, vars: Record<string, string | number> = {}) => String((CATALOGUE[lang] as Record<string, string>)[key] ?? key).replace(/\{([a-z_]+)\}/g, (m, n: string) => (n in vars ? String(vars[n]) : m));
  const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const fmtTime = (ms: number) => new Date(ms).toISOString().slice(5, 16);
  return bureauView(i, { t, esc, fmtTime, pick: pickKpi });
}

/** Each site row in order: id, rank, and the status of each figure cell. */
function rows(html: string) {
  return [...html.matchAll(/<tr class="bsite r-([a-z-]+)" data-site="([^"]+)" data-rank="([^"]+)">(.*?)<\/tr>/g)].map(([, report, site, rank, cells]) => ({
    site,
    rank,
    report,
    status: Object.fromEntries([...cells!.matchAll(/<td class="(c-[a-z-]+)[^"]*" data-status="([a-z]+)"/g)].map(([, c, s]) => [c, s])),
    text: Object.fromEntries([...cells!.matchAll(/<td class="(c-[a-z-]+)[^"]*"[^>]*>(?:<span class="pill[^"]*"><\/span>)?<span class="fv">([^<]*)<\/span>/g)].map(([, c, v]) => [c, v])),
    reporting: /data-report="[a-z-]+">([^<]*)</.exec(cells!)?.[1],
    spark: Number(/class="bspark" data-n="(\d+)"/.exec(cells!)?.[1]),
  }));
}

describe('bureau view', () => {
  it('ranks the sites by month-to-date PUE, lowest first, a site without a month value last and unranked', () => {
    const r = rows(render('zh-CN'));
    expect(r.map((x) => [x.site, x.rank])).toEqual([
      ['gy-a', '1'],
      ['gy-b', '2'],
      ['gy-c', '3'],
      ['gy-d', '–'],
    ]);
    // The order follows the figures, not the inventory: swap two sites' PUE and the ranking follows.
    const i = input();
    i.msgs = { ...i.msgs, 'site/gy-a': siteKpis('gy-a', { ...FIGURES['gy-a']!, pue: 1.5 }, 1.18) };
    expect(rows(render('en', i)).map((x) => x.site)).toEqual(['gy-b', 'gy-c', 'gy-a', 'gy-d']);
  });

  it('lights every figure: the collector\'s status against the site\'s target; 智算占比 against 90 %; no value is grey', () => {
    const r = Object.fromEntries(rows(render('zh-CN')).map((x) => [x.site, x]));
    expect(r['gy-a']!.status).toMatchObject({ 'c-pue': 'green', 'c-occupancy': 'green', 'c-green': 'green', 'c-ai-share': 'green' });
    expect(r['gy-b']!.status).toMatchObject({ 'c-pue': 'amber', 'c-occupancy': 'amber', 'c-green': 'red', 'c-ai-share': 'amber' });
    expect(r['gy-c']!.status).toMatchObject({ 'c-pue': 'red', 'c-occupancy': 'red', 'c-green': 'red', 'c-ai-share': 'red' });
    expect(r['gy-d']!.status).toMatchObject({ 'c-pue': 'grey' });
    expect(r['gy-a']!.text).toMatchObject({ 'c-pue': '1.182', 'c-occupancy': '76.4 %', 'c-green': '82.3 %', 'c-ai': '12.50 EFLOPS', 'c-ai-share': '97.7 %', 'c-util': '71.2 %' });
    expect(r['gy-b']!.text).toMatchObject({ 'c-ai': '800.0 PFLOPS' });
    expect(r['gy-d']!.text['c-pue']).toBe('–');
  });

  it('marks late and silent sites from /api/bureau/sites, and counts them', () => {
    const zh = render('zh-CN');
    const r = Object.fromEntries(rows(zh).map((x) => [x.site, x]));
    expect([r['gy-a']!.report, r['gy-b']!.report, r['gy-c']!.report, r['gy-d']!.report]).toEqual(['on-time', 'late', 'silent', 'silent']);
    expect(r['gy-a']!.reporting).toMatch(/^按时 · 最新窗口 /);
    expect(r['gy-b']!.reporting).toMatch(/^迟报/);
    expect(r['gy-c']!.reporting).toMatch(/^已 12 个窗口未上报/);
    expect(r['gy-d']!.reporting).toBe('尚未收到数据');
    expect(/data-tile="late"><div class="l">[^<]*<\/div><div class="v">1</.test(zh)).toBe(true);
    expect(/data-tile="silent"><div class="l">[^<]*<\/div><div class="v">2</.test(zh)).toBe(true);
    expect(/data-tile="pue"><div class="l">[^<]*<\/div><div class="v">1 \/ 4</.test(zh)).toBe(true);
    // Not yet silent but nothing for two quarter hours: late.
    const i = input();
    i.reports = { ...i.reports, 'gy-a': { ...i.reports['gy-a']!, age_ms: 31 * 60_000 } };
    expect(rows(render('en', i)).find((x) => x.site === 'gy-a')!.reporting).toMatch(/^late · last window /);
  });

  it('draws each site\'s daily PUE of the last days, and the cluster energy-weighted beside the mean of sites', () => {
    const html = render('en');
    expect(rows(html).map((x) => x.spark)).toEqual([5, 5, 2, 0]);
    const cluster = /<tr class="bcluster" data-cluster="guian">(.*?)<\/tr>/.exec(html)![1]!;
    expect(cluster).toMatch(/class="c-pue weighted" data-status="amber"[^>]*><span class="pill p-amber"><\/span><span class="fv">1.251</);
    expect(cluster).toMatch(/class="c-pue mean" data-status="red"[^>]*><span class="pill p-red"><\/span><span class="fv">1.275</);
    expect(cluster).toMatch(/class="c-ai-share" data-status="green"/);
  });

  it('speaks zh-CN and English with the plan\'s terms', () => {
    const zh = render('zh-CN');
    for (const w of ['排名', 'PUE（本月累计）', '上架率', '绿电占比', '算力规模', '智算占比（目标 ≥ 90.0 %）', '加速卡利用率', '近 14 天每日 PUE', '上报状态', '能耗加权', '站点均值']) expect(zh).toContain(w);
    const en = render('en');
    for (const w of ['Rank', 'PUE, month to date', 'Rack occupancy 上架率', 'Green share 绿电占比', 'Compute scale 算力规模', 'AI compute share 智算占比 (target ≥ 90.0 %)', 'Daily PUE, last 14 days', 'Reporting', 'energy-weighted', 'mean of sites']) expect(en).toContain(w);
    expect(en).not.toMatch(/排名|上报状态/);
  });

  it('is self-contained: it uses only its arguments', () => {
    // Pure, so the same function runs in Node here and in the browser bundle: rebuilt from its text alone.
    const fn = new Function(`return (${bureauView.toString()})`)() as typeof bureauView;
    expect(fn(input(), { t: (k) => k, esc: String, fmtTime: String, pick: pickKpi })).toContain('data-view="bureau"');
    expect(dayMessage('gy-d', 0)?.kpis.find((k) => k.window === '1d')?.ok).toBe(false);
  });
});
