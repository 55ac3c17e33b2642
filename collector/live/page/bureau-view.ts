import type { KpiMessage, KpiValue } from '../../../contract/messages.js';
import type { BureauSiteState } from '../../bureau/bureau.js';
import type { ClusterSummary, SiteSummary } from '../../http/api-source.js';
import type { pickKpi } from './kpi-pick.js';

/**
 * The live page's bureau view: every site of a bureau against every target, ranked by the
 * month-to-date PUE, with traffic lights, the daily PUE of the last days as a small trend, the
 * compute-monitoring figures, and whether each site reports on time, late or not at all.
 *
 * Bundled for the browser with live-app.ts (page-script.ts), which calls it. Pure: state in,
 * HTML out, so the ranking and colours are tested in Node as well as in Chromium.
 */

/** What the view reads of a site in GET /api/bureau/sites: its newest window, how late it came, silence. */
export type BureauSiteReport = Pick<BureauSiteState, 'site' | 'newest_window_end' | 'last_lag_ms' | 'age_ms' | 'silent'>;

export interface BureauSample {
  ts_ms: number;
  value: number;
}

export interface BureauViewInput {
  sites: readonly SiteSummary[];
  clusters: readonly ClusterSummary[];
  /** The newest KPI message per `site/<id>` and `cluster/<id>`. */
  msgs: Readonly<Record<string, KpiMessage>>;
  reports: Readonly<Record<string, BureauSiteReport>>;
  /** Daily PUE per site id, oldest first. */
  daily: Readonly<Record<string, readonly BureauSample[]>>;
  /** How many days the trend shows. */
  days: number;
}

export interface BureauViewDeps {
  t(key: string, vars?: Record<string, string | number>): string;
  esc(s: unknown): string;
  fmtTime(ms: number, tz: string | undefined, withDate: boolean): string;
  /** The page's one KPI picker (passed in: this view runs from its text alone). */
  pick: typeof pickKpi;
}

export function bureauView(input: BureauViewInput, d: BureauViewDeps): string {
  const { t, esc } = d;
  // The compute-monitoring plan's intelligent-compute share; compute carries no inventory target.
  const AI_SHARE_TARGET = 0.9;
  // Late: the last quarter hour came more than a quarter hour after its end, or none newer has
  // come for two quarter hours (one missed) while the bureau does not yet call the site silent.
  const QUARTER_MS = 15 * 60_000;
  const LATE_LAG_MS = QUARTER_MS;
  const LATE_AGE_MS = 2 * QUARTER_MS;
  const AMBER_POINTS = 0.05;
  type Figure = KpiValue & { value: number };
  const has = (k: KpiValue | undefined): k is Figure => !!k && k.ok && typeof k.value === 'number';
  // A site's own figure, or a cluster's energy-weighted (pooled, summed) one: never the mean of sites here.
  const headline = (b: string) => b !== 'mean_of_sites';
  const pick = (kpis: readonly KpiValue[] | undefined, name: string, wins: readonly string[], basis: (b: string) => boolean = headline) => d.pick(kpis, name, wins, basis);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const COMPUTE_WINDOWS = ['instant', '15m', '1h', '1d', '1mo'];
  const PUE_WINDOWS = ['1mo'];
  const OCC_WINDOWS = ['1mo', '1d'];
  const GREEN_WINDOWS = ['1mo', 'ytd', '1d'];

  /** The collector's verdict against the site's own target; the share of intelligent compute against the plan's 90 %. */
  function light(k: KpiValue | undefined): string {
    if (!has(k)) return 'grey';
    if (k.kpi === 'compute_ai_share_ratio') return k.value >= AI_SHARE_TARGET ? 'green' : k.value >= AI_SHARE_TARGET - AMBER_POINTS ? 'amber' : 'red';
    return k.status ?? 'grey';
  }
  function figure(k: KpiValue | undefined, text: (v: number) => string, cls: string, withLight = true): string {
    const s = withLight ? light(k) : 'none';
    const pill = withLight ? `<span class="pill p-${s}"></span>` : '';
    const v = has(k) ? text(k.value) : '–';
    const meta = k ? `<div class="meta">${esc(t(`window.${k.window}`))} · ${esc(t(`quality.${k.quality}`))}</div>` : '';
    return `<td class="${cls}" data-status="${s}" data-quality="${k?.quality ?? ''}">${pill}<span class="fv">${esc(v)}</span>${meta}</td>`;
  }
  function spark(samples: readonly BureauSample[] | undefined, target: number | undefined): string {
    const W = 150;
    const H = 40;
    const list = samples ?? [];
    if (list.length < 2) return `<svg class="bspark" data-n="${list.length}" viewBox="0 0 ${W} ${H}"><text x="2" y="24" fill="#93a1ae" font-size="11">${esc(t('bureau.trend_none'))}</text></svg>`;
    const ys = list.map((s) => s.value).concat(target === undefined ? [] : [target]);
    const lo = Math.min(...ys) - 0.02;
    const hi = Math.max(...ys) + 0.02;
    const x0 = list[0]!.ts_ms;
    const dx = Math.max(1, list[list.length - 1]!.ts_ms - x0);
    const X = (v: number) => (2 + ((v - x0) / dx) * (W - 4)).toFixed(1);
    const Y = (v: number) => (H - 2 - ((v - lo) / (hi - lo)) * (H - 4)).toFixed(1);
    const path = list.map((s, i) => `${i ? 'L' : 'M'}${X(s.ts_ms)} ${Y(s.value)}`).join(' ');
    const tl = target === undefined ? '' : `<line x1="2" x2="${W - 2}" y1="${Y(target)}" y2="${Y(target)}" stroke="#f0b429" stroke-dasharray="4 3"/>`;
    const lastV = list[list.length - 1]!.value;
    const colour = target === undefined ? '#4c9bff' : lastV <= target ? '#2fbf71' : '#ef4e4e';
    return `<svg class="bspark" data-n="${list.length}" viewBox="0 0 ${W} ${H}">${tl}<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/></svg>`;
  }
  function reportState(r: BureauSiteReport | undefined): 'unknown' | 'silent' | 'late' | 'on-time' {
    if (!r) return 'unknown';
    if (r.newest_window_end === null || r.silent) return 'silent';
    if ((r.last_lag_ms ?? 0) > LATE_LAG_MS || (r.age_ms ?? 0) > LATE_AGE_MS) return 'late';
    return 'on-time';
  }
  function reporting(r: BureauSiteReport | undefined, tz: string | undefined): { cls: string; html: string } {
    const cls = reportState(r);
    if (!r || cls === 'unknown') return { cls, html: '–' };
    if (r.newest_window_end === null) return { cls, html: esc(t('bureau.never')) };
    const when = d.fmtTime(r.newest_window_end, tz, true);
    if (cls === 'silent') return { cls, html: esc(t('bureau.silent', { n: Math.floor((r.age_ms ?? 0) / QUARTER_MS), time: when })) };
    return { cls, html: esc(t(cls === 'late' ? 'bureau.late' : 'bureau.on_time', { time: when })) };
  }

  const rows = input.sites.map((s) => {
    const kpis = input.msgs[`site/${s.id}`]?.kpis;
    const pue = pick(kpis, 'pue', PUE_WINDOWS);
    return { s, kpis, pue, sortKey: has(pue) ? pue.value : Number.POSITIVE_INFINITY };
  });
  // Lowest PUE first; sites without a month value last, by id so the order is stable.
  rows.sort((a, b) => a.sortKey - b.sortKey || a.s.id.localeCompare(b.s.id));
  let rank = 0;
  const fmtPue = (v: number) => v.toFixed(3);
  const aiText = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} EFLOPS` : `${v.toFixed(1)} PFLOPS`);
  const body = rows
    .map(({ s, kpis, pue }) => {
      const r = input.reports[s.id];
      const rep = reporting(r, s.timezone);
      const shownRank = has(pue) ? String(++rank) : '–';
      const cluster = s.cluster ? `<div class="meta">${esc(s.cluster)}</div>` : '';
      return (
        `<tr class="bsite r-${rep.cls}" data-site="${esc(s.id)}" data-rank="${shownRank}">` +
        `<td class="rank">${shownRank}</td><td class="name">${esc(s.name)}${cluster}</td>` +
        figure(pue, fmtPue, 'c-pue') +
        figure(pick(kpis, 'rack_occupancy_ratio', OCC_WINDOWS), pct, 'c-occupancy') +
        figure(pick(kpis, 'green_share_ratio', GREEN_WINDOWS), pct, 'c-green') +
        figure(pick(kpis, 'compute_ai_pflops', COMPUTE_WINDOWS), aiText, 'c-ai', false) +
        figure(pick(kpis, 'compute_ai_share_ratio', COMPUTE_WINDOWS), pct, 'c-ai-share') +
        figure(pick(kpis, 'accelerator_utilisation_pct', COMPUTE_WINDOWS), (v) => `${v.toFixed(1)} %`, 'c-util', false) +
        `<td class="c-trend">${spark(input.daily[s.id], pue?.target ?? s.targets.pue)}</td>` +
        `<td class="c-report" data-report="${rep.cls}">${rep.html}</td></tr>`
      );
    })
    .join('');
  const count = (name: string, wins: readonly string[]) => rows.filter((x) => light(pick(x.kpis, name, wins)) === 'green').length;
  const total = rows.length;
  const silent = rows.filter((x) => reportState(input.reports[x.s.id]) === 'silent').length;
  const late = rows.filter((x) => reportState(input.reports[x.s.id]) === 'late').length;
  const tile = (label: string, n: number, key: string, warn = false) => `<div class="box t-${warn ? (n > 0 ? 'red' : 'green') : n === total ? 'green' : 'amber'}" data-tile="${key}"><div class="l">${esc(label)}</div><div class="v">${warn ? n : `${n} / ${total}`}</div></div>`;
  const tiles =
    `<div class="btiles">` +
    tile(`${t('kpi.pue')} · ${t('window.1mo')}`, count('pue', PUE_WINDOWS), 'pue') +
    tile(t('kpi.rack_occupancy_ratio'), count('rack_occupancy_ratio', OCC_WINDOWS), 'occupancy') +
    tile(t('kpi.green_share_ratio'), count('green_share_ratio', GREEN_WINDOWS), 'green') +
    tile(t('kpi.compute_ai_share_ratio'), count('compute_ai_share_ratio', COMPUTE_WINDOWS), 'ai-share') +
    tile(t('bureau.late_sites'), late, 'late', true) +
    tile(t('bureau.silent_sites'), silent, 'silent', true) +
    '</div>';
  const heads = ['bureau.rank', 'bureau.site', 'bureau.pue_month', 'kpi.rack_occupancy_ratio', 'kpi.green_share_ratio', 'bureau.ai_compute', 'bureau.ai_share', 'kpi.accelerator_utilisation_pct', 'bureau.trend', 'bureau.reporting']
    .map((k) => `<th>${esc(t(k, { n: input.days, value: pct(AI_SHARE_TARGET) }))}</th>`)
    .join('');
  const sitesTable = `<table class="branking"><thead><tr>${heads}</tr></thead><tbody>${body}</tbody></table>`;

  const clusterRows = input.clusters
    .map((c) => {
      const kpis = input.msgs[`cluster/${c.id}`]?.kpis;
      const both = (name: string, wins: readonly string[], fmt: (v: number) => string, cls: string) =>
        figure(pick(kpis, name, wins), fmt, `${cls} weighted`) + figure(pick(kpis, name, wins, (b) => b === 'mean_of_sites'), fmt, `${cls} mean`);
      return (
        `<tr class="bcluster" data-cluster="${esc(c.id)}"><td class="name">${esc(c.name)}<div class="meta">${esc(c.sites.join(', '))}</div></td>` +
        both('pue', PUE_WINDOWS, fmtPue, 'c-pue') +
        both('rack_occupancy_ratio', OCC_WINDOWS, pct, 'c-occupancy') +
        both('green_share_ratio', GREEN_WINDOWS, pct, 'c-green') +
        figure(pick(kpis, 'compute_ai_pflops', COMPUTE_WINDOWS), aiText, 'c-ai', false) +
        figure(pick(kpis, 'compute_ai_share_ratio', COMPUTE_WINDOWS), pct, 'c-ai-share') +
        '</tr>'
      );
    })
    .join('');
  const w = t('bureau.energy_weighted');
  const m = t('bureau.mean_of_sites');
  const clusterHeads = [t('bureau.cluster'), `${t('bureau.pue_month')} · ${w}`, `${t('bureau.pue_month')} · ${m}`, `${t('kpi.rack_occupancy_ratio')} · ${w}`, `${t('kpi.rack_occupancy_ratio')} · ${m}`, `${t('kpi.green_share_ratio')} · ${w}`, `${t('kpi.green_share_ratio')} · ${m}`, t('bureau.ai_compute'), t('bureau.ai_share', { value: pct(AI_SHARE_TARGET) })]
    .map((h) => `<th>${esc(h)}</th>`)
    .join('');
  const clustersTable = input.clusters.length > 0 ? `<h2>${esc(t('bureau.clusters'))}</h2><table class="bclusters"><thead><tr>${clusterHeads}</tr></thead><tbody>${clusterRows}</tbody></table>` : '';
  const legend = `<p class="meta">${esc(t('bureau.legend'))}</p>`;
  return `<div class="bview" data-view="bureau"><h2>${esc(t('bureau.view_title'))}</h2>${tiles}${sitesTable}${legend}${clustersTable}</div>`;
}
