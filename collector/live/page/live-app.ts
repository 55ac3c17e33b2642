import type { AlertMessage, KpiMessage, KpiValue } from '../../../contract/messages.js';
import type { ClusterSummary, SiteSummary } from '../../http/api-source.js';
import type { FloorHall, SiteFloor } from '../site-floor.js';
import type { BureauSiteReport, bureauView } from './bureau-view.js';
import { formatKpi, type KpiFormat } from './kpi-format.js';
import { pickKpi } from './kpi-pick.js';
import type { KpiTile } from './kpi-tile.js';

/**
 * The live page's script, type-checked and linted with the rest of the code and bundled for the
 * browser with esbuild (page-script.ts; the entry is main.ts, which live-page.ts starts with the
 * catalogue). It runs in a browser only: nothing here may use Node.
 *
 * The project compiles without the DOM library (it would change Node's globals for every
 * file), so the few browser objects the page uses are declared below, for this module only.
 */
interface El {
  textContent: string | null;
  innerHTML: string;
  value: string;
  style: { display: string };
  classList: { toggle(name: string, on: boolean): void };
  dataset: Record<string, string | undefined>;
  closest(selector: string): El | null;
  onsubmit: ((ev: { preventDefault(): void }) => void) | null;
}
interface BrowserStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  documentElement: { lang: string };
  title: string;
  addEventListener(type: 'click', fn: (ev: { target: El }) => void): void;
};
declare const location: { href: string; pathname: string; search: string; hash: string };
declare const history: { replaceState(data: null, unused: string, url: string): void };
declare const sessionStorage: BrowserStorage;
declare const localStorage: BrowserStorage;
declare class EventSource {
  constructor(url: string);
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: string, fn: (ev: { data: string }) => void): void;
}

export type Catalogue = Record<string, Record<string, string>>;
type Scope = 'site' | 'cluster';
type Vars = Record<string, string | number>;
interface Sample {
  ts_ms: number;
  value: number;
}
interface ChartOptions {
  cls: string;
  title: string;
  unit: string;
  target: number | undefined;
  tick: (v: number) => string;
  minPad: number;
  tz: string | undefined;
}
/** The stale meters a live figure names (absent from collectors that predate the field). */
type LiveValue = KpiValue & { stale_meters?: { device: string; carried?: boolean }[] };

/**
 * `bureau` is the bureau view (page/bureau-view.ts, in the same bundle), shown instead
 * of the site sections when the page is served by a bureau (`IS_BUREAU`). `FORMATS`: each
 * registered KPI's number format by name, from the server's KPI registry.
 */
export function liveApp(I18N: Catalogue, DEFAULT_LANG: string, bureau: typeof bureauView, IS_BUREAU: boolean, FORMATS: Readonly<Record<string, KpiFormat>>, TILES: readonly KpiTile[]): void {
  const $ = (selector: string): El => {
    const el = document.querySelector(selector);
    if (!el) throw new Error(`live page: no ${selector}`);
    return el;
  };
  const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ESC[c] ?? c);
  const LANGS = Object.keys(I18N);
  const langOf = (s: string | null): string => {
    const v = String(s ?? '').toLowerCase();
    if (v === 'zh' || v.startsWith('zh-')) return 'zh-CN';
    if (v === 'en' || v.startsWith('en-')) return 'en';
    return '';
  };
  let lang = langOf(new URLSearchParams(location.search).get('lang')) || langOf(localStorage.getItem('dcim_lang')) || DEFAULT_LANG;
  const t = (key: string, vars?: Vars): string => String(I18N[lang]?.[key] ?? key).replace(/\{([a-z_]+)\}/g, (m, n: string) => (vars && n in vars ? String(vars[n]) : m));

  const hashToken = new URLSearchParams(location.hash.slice(1)).get('token');
  if (hashToken) {
    sessionStorage.setItem('dcim_token', hashToken);
    history.replaceState(null, '', location.pathname + location.search);
  }
  let token = sessionStorage.getItem('dcim_token') ?? '';
  // offset: the collector's clock minus this screen's, from the events' ts (alert ages use it).
  const state = {
    sites: [] as SiteSummary[],
    clusters: [] as ClusterSummary[],
    msgs: {} as Record<string, KpiMessage>,
    trends: {} as Record<string, Sample[]>,
    floors: {} as Record<string, SiteFloor>,
    alerts: [] as AlertMessage[],
    alertsConfigured: null as boolean | null,
    offset: 0,
    conn: 'conn.connecting',
    connError: '',
    /** The API is a bureau's: the bureau view replaces the site sections. */
    bureau: false,
    reports: {} as Record<string, BureauSiteReport>,
    /** Daily PUE per site (bureau view), oldest first. */
    daily: {} as Record<string, Sample[]>,
  };
  const BUREAU_DAYS = 14;
  const serverNow = () => Date.now() + state.offset;
  const WIN_MS: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '1d': 86_400_000 };
  const DAY_MS = 86_400_000;

  class AuthError extends Error {}
  async function api<T>(path: string): Promise<T> {
    const r = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (r.status === 401) throw new AuthError('token');
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  }
  const pick = (kpis: readonly KpiValue[] | undefined, name: string, wins: readonly string[]): LiveValue | undefined => pickKpi(kpis, name, wins);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const kw = (w: number | null | undefined) => (w === null || w === undefined ? '–' : `${(w / 1000).toFixed(1)} kW`);
  const deg = (c: number | null | undefined) => (c === null || c === undefined ? '–' : `${c.toFixed(1)} °C`);
  const has = (k: KpiValue | undefined): k is KpiValue & { value: number } => !!k && k.ok && k.value !== undefined;
  const fmt = (k: KpiValue & { value: number }): string => formatKpi(k.value, FORMATS[k.kpi]);
  const st = (k: KpiValue | undefined) => k?.status ?? 'grey';
  // A figure without a target (compute) is shown plainly, not greyed as "no verdict".
  const valueClass = (k: KpiValue | undefined) => (k && k.target === undefined && has(k) ? 's-none' : `s-${st(k)}`);
  function fmtTime(ms: number, tz: string | undefined, withDate = false): string {
    const o: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hour12: false, ...(withDate ? { month: '2-digit', day: '2-digit' } : {}) };
    try {
      return new Intl.DateTimeFormat(lang, { ...o, ...(tz ? { timeZone: tz } : {}) }).format(new Date(ms));
    } catch {
      return new Intl.DateTimeFormat(lang, o).format(new Date(ms));
    }
  }
  function fmtAge(ms: number): string {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return t('age.s', { n: s });
    const m = Math.floor(s / 60);
    if (m < 60) return t('age.min', { n: m });
    const h = Math.floor(m / 60);
    if (h < 48) return t('age.h', { h, m: m % 60 });
    return t('age.d', { d: Math.floor(h / 24), h: h % 24 });
  }
  // A window without a value says why and when its first value is due. The published window is the
  // last complete one: if data reached into it (coverage > 0) the next window is the first complete
  // one, else data began inside the running window and the one after it is the first complete one.
  function fillNote(k: KpiValue | undefined, tz: string | undefined): string {
    if (!k) return t('site.waiting');
    if (has(k)) return '';
    const len = WIN_MS[k.window];
    if (k.coverage < 0.8) {
      // Month and year windows run to date: they fill as the period goes on, with no fixed first time.
      if (len === undefined) return t('fill.coverage', { pct: pct(k.coverage) });
      const first = k.window_end + (k.coverage > 0 ? 1 : 2) * len;
      return `${t('fill.coverage', { pct: pct(k.coverage) })} · ${t('fill.first_value', { time: fmtTime(first, tz, len >= DAY_MS || first - serverNow() > DAY_MS) })}`;
    }
    // The catalogue names the reason's code in the page's language; the engine's detail follows.
    const detail = String(k.reason ?? '').replace(/^DCIM_E_[A-Z_]+: /, '').slice(0, 90);
    const named = k.reason_code === undefined ? undefined : I18N[lang]?.[`reason.${k.reason_code}`];
    return t('fill.no_data', { reason: named ? `${named} — ${detail}` : detail });
  }
  function kpiBox(k: KpiValue | undefined, label: string, tz: string | undefined, extra = ''): string {
    const target = k?.target === undefined ? '' : ` · ${t('pue.target', { value: k.kpi.endsWith('_ratio') ? pct(k.target) : k.target })}`;
    const win = k ? `${t(`window.${k.window}`)} · ${t(`quality.${k.quality}`)}${target}` : '';
    const v = has(k) ? `<div class="v ${valueClass(k)}">${fmt(k)}</div>` : `<div class="v s-grey">–</div><div class="note">${esc(fillNote(k, tz))}</div>`;
    return `<div class="box t-${st(k)}" data-kpi="${k ? `${k.kpi}/${k.window}` : esc(label)}"><div class="l">${esc(label)}</div>${v}<div class="w">${esc(win)}</div>${extra}</div>`;
  }
  // Carried meters stand in at their last power (the figure is estimated); the others are why it has none.
  function staleNote(live: LiveValue | undefined): string {
    const all = live?.stale_meters ?? [];
    const line = (list: typeof all, key: string) => {
      if (list.length === 0) return '';
      const names = list.slice(0, 3).map((m) => m.device).join(', ') + (list.length > 3 ? ' …' : '');
      return `<div class="stale" data-stale="${esc(list.map((m) => m.device).join(','))}">${esc(t(key, { meters: names }))}</div>`;
    };
    return line(all.filter((m) => m.carried !== false), 'pue.stale_meter') + line(all.filter((m) => m.carried === false), 'pue.stale_meter_gap');
  }
  function hero(name: string, m: KpiMessage | undefined, tz: string | undefined): string {
    const live = pick(m?.kpis, 'pue_live', ['instant']);
    const inp = live?.inputs ?? {};
    let sub = t('site.waiting');
    if (live) {
      const parts = [t('pue.instantaneous')];
      if (live.category) parts.push(t('pue.category', { n: '₀₁₂₃'[live.category] ?? '' }));
      parts.push(t(`quality.${live.quality}`));
      if (live.target !== undefined) parts.push(t('pue.target', { value: live.target }));
      sub = parts.join(' · ');
    }
    // A meter beyond the carry bounds is the reason, said by staleNote in the page's language.
    const gap = live?.stale_meters?.some((m) => m.carried === false) ?? false;
    const reason = live && !has(live) && !gap ? `<div class="stale">${esc(fillNote(live, tz))}</div>` : '';
    return (
      `<div class="box hero t-${st(live)}"><div class="name">${esc(name)}</div><div class="big ${valueClass(live)}" data-kpi="pue_live">${has(live) ? fmt(live) : '–'}</div>` +
      `<div class="sub">${esc(t('kpi.pue_live'))} · ${esc(sub)}</div>${reason}${staleNote(live)}` +
      `<div class="sub">${esc(t('pue.powers', { facility: kw(inp.facility_power_w), it: kw(inp.it_power_w) }))}</div>` +
      `<div class="sub">${esc(t('site.updated', { time: '' }))}<span class="ts" data-ts="${m ? m.ts : ''}">${m ? fmtTime(m.ts, tz) : '–'}</span></div></div>`
    );
  }
  function siteHead(scope: Scope, id: string, name: string, tz: string | undefined): string {
    const m = state.msgs[`${scope}/${id}`];
    const kpis = m?.kpis;
    // The tiles the KPI modules declare, in their order; a second figure beside a value only when it has one.
    const tile = (x: KpiTile) => {
      const near = x.beside ? pick(kpis, x.beside.kpi, x.beside.windows) : undefined;
      const extra = x.beside && has(near) ? `<div class="w">${esc(t(`kpi.${x.beside.kpi}`))} ${fmt(near)}</div>` : '';
      return kpiBox(pick(kpis, x.kpi, x.windows), x.label.map((k) => t(k)).join(' · '), tz, extra);
    };
    return `<div class="site-head">${hero(name, m, tz)}${TILES.map(tile).join('')}</div>`;
  }
  const stat = (label: string, value: string, note = '', attr = '') => `<div class="stat"><div class="l">${esc(label)}</div><div class="v"${attr}>${value}</div>${note ? `<div class="w">${esc(note)}</div>` : ''}</div>`;
  function hallPanel(h: FloorHall): string {
    const title = h.id === null ? t('hall.site_wide') : t('hall.title', { name: h.name });
    let html = `<div class="panel hall" data-hall="${esc(h.id ?? '')}"><h2>${esc(title)}</h2>`;
    if (h.id !== null) {
      const inlet = h.inlet_min_c === null || h.inlet_max_c === null ? '–' : `${h.inlet_min_c.toFixed(1)}–${h.inlet_max_c.toFixed(1)} °C`;
      const unknown = h.racks_unknown > 0 ? t('hall.unknown_racks', { n: h.racks_unknown }) : '';
      html +=
        '<div class="hall-stats">' +
        stat(t('hall.it_power'), kw(h.it_power_w), h.pue.ok ? '' : unknown) +
        stat(t('hall.pue'), h.pue.ok ? h.pue.value.toFixed(3) : '–', h.pue.ok ? t('pue.instantaneous') : t(`hall.pue.${h.pue.reason}`), ' data-hall-pue') +
        stat(t('hall.racks_powered'), `${h.racks_powered} / ${h.racks_available}`, '', ' data-racks-powered') +
        stat(t('hall.headroom'), h.headroom_kw === null ? '–' : `${h.headroom_kw.toFixed(1)} kW`, [t('hall.headroom_of', { rated: `${h.rated_kw.toFixed(0)} kW` }), unknown].filter((x) => x).join(' · ')) +
        stat(t('hall.inlet'), inlet) +
        '</div>';
      html += `<div class="heat">${h.racks
        .map((r) => {
          const band = r.inlet_band ?? 'none';
          const cls = r.status !== 'available' ? r.status : `b-${band}${r.powered ? '' : ' idle'}`;
          const ratio = r.power_w === null ? 0 : Math.min(1, r.power_w / 1000 / r.rated_kw);
          const tip = t('rack.tooltip', { rack: r.id, power: kw(r.power_w), rated: `${r.rated_kw} kW`, temp: deg(r.inlet_temp_c) });
          const status = r.status !== 'available' ? `<div class="kw">${esc(t(`rack.${r.status}`))}</div>` : '';
          return `<div class="rack ${cls}" data-rack="${esc(r.id)}" data-band="${band}" data-temp="${r.inlet_temp_c ?? ''}" title="${esc(tip)}"><div class="id">${esc(r.id)}</div><div class="temp">${deg(r.inlet_temp_c)}</div><div class="kw">${kw(r.power_w)} / ${r.rated_kw} kW</div>${status}<div class="bar${ratio >= 0.9 ? ' full' : ''}" style="width:${(ratio * 100).toFixed(0)}%"></div></div>`;
        })
        .join('')}</div>`;
      const swatch = (colour: string, key: string) => `<span><i style="background:${colour}"></i>${esc(t(key))}</span>`;
      html += `<div class="legend">${swatch('#17613f', 'band.recommended')}${swatch('#8a6410', 'band.allowable')}${swatch('#9c2424', 'band.outside')}${swatch('#2a3642', 'band.none')}</div>`;
    }
    html += `<h2>${esc(t('cooling.title'))}</h2>`;
    html +=
      h.cooling.length > 0
        ? `<div class="cooling">${h.cooling
            .map((u) => {
              const temps = u.supply_temp_c !== null || u.return_temp_c !== null ? `<div class="w">${esc(t('cooling.supply_return', { supply: deg(u.supply_temp_c), ret: deg(u.return_temp_c) }))}${u.power_w !== null ? ` · ${kw(u.power_w)}` : ''}</div>` : '';
              const alarms = u.alarms.length > 0 ? `<div class="w s-red">${esc(u.alarms.join(', '))}</div>` : '';
              return `<div class="unit u-${u.state}" data-unit="${esc(u.id)}" data-state="${u.state}"><span class="st">${esc(t(`cooling.${u.state}`))}</span><b>${esc(u.id)}</b> <span class="meta">${esc(t(`cooling.${u.class}`))}</span>${temps}${alarms}</div>`;
            })
            .join('')}</div>`
        : `<p class="none">${esc(t('cooling.none'))}</p>`;
    return `${html}</div>`;
  }
  function niceStep(raw: number): number {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  // A trend with a time axis, a value axis with its unit, and the target as a dashed line.
  function chart(samples: readonly Sample[] | undefined, o: ChartOptions): string {
    const W = 600;
    const H = 230;
    const L = 62;
    const R = 14;
    const T = 30;
    const B = 34;
    const head = `<text x="${L}" y="18" fill="#e8eef4" font-size="15" font-weight="600">${esc(o.title)}</text>`;
    if (!samples || samples.length < 2) return `<svg class="chart ${o.cls}" data-n="0" viewBox="0 0 ${W} ${H}">${head}<text x="${L}" y="${H / 2}" fill="#93a1ae" font-size="14">${esc(t('trend.collecting'))}</text></svg>`;
    const ys = samples.map((s) => s.value);
    let lo = Math.min(...ys);
    let hi = Math.max(...ys);
    if (o.target !== undefined) {
      lo = Math.min(lo, o.target);
      hi = Math.max(hi, o.target);
    }
    const pad = Math.max(o.minPad, (hi - lo) * 0.15);
    hi += pad;
    lo -= pad;
    const x0 = samples[0]!.ts_ms;
    const x1 = samples[samples.length - 1]!.ts_ms;
    const dx = Math.max(1, x1 - x0);
    const X = (v: number) => L + ((v - x0) / dx) * (W - L - R);
    const Y = (v: number) => H - B - ((v - lo) / (hi - lo)) * (H - T - B);
    let g = '';
    const step = niceStep((hi - lo) / 4);
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
      g += `<line x1="${L}" x2="${W - R}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#263340"/><text x="${L - 6}" y="${(Y(v) + 4).toFixed(1)}" fill="#93a1ae" font-size="12" text-anchor="end">${esc(o.tick(v))}</text>`;
    }
    const tStep = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3].find((s) => dx / s <= 6) ?? 3 * 3600e3;
    for (let v = Math.ceil(x0 / tStep) * tStep; v <= x1; v += tStep) {
      g += `<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${H - B}" y2="${H - B + 5}" stroke="#93a1ae"/><text x="${X(v).toFixed(1)}" y="${H - B + 18}" fill="#93a1ae" font-size="12" text-anchor="middle">${esc(fmtTime(v, o.tz))}</text>`;
    }
    g += `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#93a1ae"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#93a1ae"/>`;
    g += `<text x="6" y="18" fill="#93a1ae" font-size="12">${esc(o.unit)}</text><text x="${W - R}" y="${H - 2}" fill="#93a1ae" font-size="12" text-anchor="end">${esc(t('trend.time'))}</text>`;
    const d = samples.map((s, i) => `${i ? 'L' : 'M'}${X(s.ts_ms).toFixed(1)} ${Y(s.value).toFixed(1)}`).join(' ');
    const tl =
      o.target === undefined
        ? ''
        : `<line class="target" x1="${L}" x2="${W - R}" y1="${Y(o.target).toFixed(1)}" y2="${Y(o.target).toFixed(1)}" stroke="#f0b429" stroke-dasharray="6 4" stroke-width="1.5"/><text x="${W - R - 4}" y="${(Y(o.target) - 5).toFixed(1)}" fill="#f0b429" font-size="12" text-anchor="end">${esc(t('trend.target', { value: o.tick(o.target) + (o.unit === '%' ? ' %' : '') }))}</text>`;
    return `<svg class="chart ${o.cls}" data-n="${samples.length}" viewBox="0 0 ${W} ${H}">${head}${g}${tl}<path d="${d}" fill="none" stroke="#4c9bff" stroke-width="2.5"/></svg>`;
  }
  function spanText(samples: readonly Sample[] | undefined): string {
    if (!samples || samples.length < 2) return '';
    const mins = Math.round((samples[samples.length - 1]!.ts_ms - samples[0]!.ts_ms) / 60_000);
    return mins < 120 ? t('age.min', { n: Math.max(1, mins) }) : t('age.h', { h: Math.floor(mins / 60), m: mins % 60 });
  }
  function trends(scope: Scope, id: string, tz: string | undefined): string {
    const key = `${scope}/${id}`;
    const m = state.msgs[key];
    const live = pick(m?.kpis, 'pue_live', ['instant']);
    const green = pick(m?.kpis, 'green_share_live_ratio', ['instant']);
    const pueS = state.trends[`${key}/pue_live`];
    const greenS = state.trends[`${key}/green_share_live_ratio`]?.map((s) => ({ ts_ms: s.ts_ms, value: s.value * 100 }));
    return (
      '<div class="panel trend">' +
      chart(pueS, { cls: 'spark', title: t('trend.title', { span: spanText(pueS) }), unit: 'PUE', target: live?.target, tick: (v) => v.toFixed(2), minPad: 0.02, tz }) +
      chart(greenS, { cls: 'green', title: `${t('kpi.green_share_live_ratio')} (${t('window.instant')})`, unit: '%', target: green?.target === undefined ? undefined : green.target * 100, tick: (v) => v.toFixed(0), minPad: 2, tz }) +
      '</div>'
    );
  }
  const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  function alertsPanel(site: string): string {
    let body: string;
    if (state.alertsConfigured === false) body = `<p class="off" data-alerts="off">${esc(t('alerts.not_configured'))}</p>`;
    else if (state.alertsConfigured === null) body = `<p class="none">${esc(t('conn.connecting'))}</p>`;
    else {
      const list = state.alerts.filter((a) => a.site === site).sort((a, b) => (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) || (a.starts_at ?? 0) - (b.starts_at ?? 0));
      body =
        list.length > 0
          ? `<ul>${list
              .map((a) => {
                const l = a.labels;
                const where = [l.hall, l.rack, l.device].filter((x) => x).join(' · ');
                const age = a.starts_at ? `<span class="age" data-starts="${a.starts_at}">${esc(fmtAge(serverNow() - a.starts_at))}</span>` : '';
                return `<li class="${esc(a.severity)}" data-alert="${esc(a.id)}">${age}<span class="sev">${esc(t(`severity.${a.severity}`))}</span>${esc(a.name)}<div class="where">${esc(where || a.site)} — ${esc(a.summary)}</div></li>`;
              })
              .join('')}</ul>`
          : `<p class="none" data-alerts="none">${esc(t('alerts.none'))}</p>`;
    }
    return `<div class="panel alerts"><h2>${esc(t('alerts.title'))}</h2>${body}</div>`;
  }
  function siteSection(s: SiteSummary): string {
    const f = state.floors[s.id];
    const halls = f ? f.halls.map(hallPanel).join('') : `<div class="panel"><p class="none">${esc(t('site.waiting'))}</p></div>`;
    const meta = t('site.meta', { racks: s.racks, devices: s.devices }) + (s.devices_down ? ` · ${t('site.down', { n: s.devices_down })}` : '');
    return `<section class="site card" data-scope="site" data-id="${esc(s.id)}">${siteHead('site', s.id, `${s.name} · ${meta}`, s.timezone)}<div class="body"><div class="halls">${halls}</div><div class="side">${alertsPanel(s.id)}${trends('site', s.id, s.timezone)}</div></div></section>`;
  }
  function clusterSection(c: ClusterSummary): string {
    const tz = c.timezone;
    return `<section class="site card" data-scope="cluster" data-id="${esc(c.id)}">${siteHead('cluster', c.id, `${c.name} · ${t('clusters.of', { sites: c.sites.join(', ') })}`, tz)}</section>`;
  }
  function bureauRow(scope: Scope, id: string, name: string): string {
    const kpis = state.msgs[`${scope}/${id}`]?.kpis;
    const cell = (n: string, wins: readonly string[]) => {
      const k = pick(kpis, n, wins);
      return `<td><span class="pill p-${st(k)}"></span>${has(k) ? fmt(k) : '–'}${k ? ` <span class="meta">${esc(t(`window.${k.window}`))}</span>` : ''}</td>`;
    };
    const q = pick(kpis, 'pue', ['1d', '1mo', '1h']);
    return `<tr><td>${scope === 'cluster' ? '◇ ' : ''}${esc(name)}</td>${cell('pue_live', ['instant'])}${cell('pue', ['1mo', '1d', '1h'])}${cell('green_share_ratio', ['1mo', '1d'])}${cell('rack_occupancy_ratio', ['1d', 'instant', '1mo'])}${cell('compute_ai_pflops', ['instant', '1d'])}<td>${q ? esc(t(`quality.${q.quality}`)) : '–'}</td></tr>`;
  }
  function renderStatic(): void {
    document.documentElement.lang = lang;
    document.title = t('page.title');
    $('#title').textContent = t('page.title');
    $('#langs').innerHTML = LANGS.map((l) => `<button type="button" data-lang="${l}" class="${l === lang ? 'on' : ''}">${esc(I18N[l]?.['lang.name'] ?? l)}</button>`).join('');
    $('#login-title').textContent = t('login.title');
    $('#login-hint').textContent = t('login.hint');
    $('#login-open').textContent = t('login.open');
    $('#conn').textContent = state.connError || t(state.conn);
    $('#live').classList.toggle('on', state.conn === 'conn.live');
  }
  function tick(): void {
    $('#clock').textContent = fmtTime(serverNow(), state.sites[0]?.timezone);
    for (const el of document.querySelectorAll('.age[data-starts]')) el.textContent = fmtAge(serverNow() - Number(el.dataset.starts));
  }
  function render(): void {
    renderStatic();
    if (state.bureau) {
      $('#sites').innerHTML = '';
      $('#bureau').innerHTML = bureau({ sites: state.sites, clusters: state.clusters, msgs: state.msgs, reports: state.reports, daily: state.daily, days: BUREAU_DAYS }, { t, esc, fmtTime, pick: pickKpi });
      tick();
      return;
    }
    $('#sites').innerHTML = state.sites.map(siteSection).join('') + state.clusters.map(clusterSection).join('') || `<p class="none">${esc(t('site.none'))}</p>`;
    const rows = state.sites.map((s) => bureauRow('site', s.id, s.name)).join('') + state.clusters.map((c) => bureauRow('cluster', c.id, c.name)).join('');
    const heads = ['bureau.scope', 'kpi.pue_live', 'kpi.pue', 'kpi.green_share_ratio', 'kpi.rack_occupancy_ratio', 'kpi.compute_ai_pflops', 'bureau.quality'].map((k) => `<th>${esc(t(k))}</th>`).join('');
    $('#bureau').innerHTML = state.sites.length + state.clusters.length > 1 ? `<h2>${esc(t('bureau.title'))}</h2><table><thead><tr>${heads}</tr></thead><tbody>${rows}</tbody></table>` : '';
    tick();
  }
  function push(key: string, ts: number, value: number): void {
    const list = (state.trends[key] ??= []);
    const last = list[list.length - 1];
    if (!last || ts > last.ts_ms) list.push({ ts_ms: ts, value });
    while (list.length > 0 && (list[0]!.ts_ms < ts - 6 * 3_600_000 || list.length > 4000)) list.shift();
  }
  /** A site's daily PUE from its KPI message: a new day is appended, a revised one replaced. */
  function keepDaily(site: string, kpis: readonly KpiValue[]): void {
    const k = kpis.find((x) => x.kpi === 'pue' && x.window === '1d' && x.basis !== 'mean_of_sites');
    if (!has(k)) return;
    const list = (state.daily[site] ??= []).filter((s) => s.ts_ms !== k.window_end);
    list.push({ ts_ms: k.window_end, value: k.value });
    list.sort((a, b) => a.ts_ms - b.ts_ms);
    state.daily[site] = list.slice(-BUREAU_DAYS);
  }
  function onKpi(msg: KpiMessage & { scope: Scope }): void {
    const key = `${msg.scope}/${msg.site}`;
    state.msgs[key] = msg;
    if (state.bureau && msg.scope === 'site') keepDaily(msg.site, msg.kpis);
    for (const name of ['pue_live', 'green_share_live_ratio']) {
      const k = pick(msg.kpis, name, ['instant']);
      if (has(k)) push(`${key}/${name}`, msg.ts, k.value);
    }
    render();
  }
  function follow(): void {
    const es = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    es.onopen = () => {
      state.conn = 'conn.live';
      renderStatic();
    };
    es.onerror = () => {
      state.conn = 'conn.reconnecting';
      renderStatic();
    };
    es.addEventListener('kpi', (e) => onKpi(JSON.parse(e.data) as KpiMessage & { scope: Scope }));
    es.addEventListener('alert', (e) => {
      const d = JSON.parse(e.data) as { configured?: boolean; alerts: AlertMessage[]; ts?: number };
      state.alerts = d.alerts;
      state.alertsConfigured = d.configured !== false;
      if (d.ts) state.offset = d.ts - Date.now();
      render();
    });
    es.addEventListener('floor', (e) => {
      const f = JSON.parse(e.data) as SiteFloor;
      state.floors[f.site] = f;
      if (f.ts) state.offset = f.ts - Date.now();
      render();
    });
  }
  function askToken(): void {
    $('#app').style.display = 'none';
    $('#login').style.display = '';
    $('#login form').onsubmit = (ev) => {
      ev.preventDefault();
      token = $('#tok').value.trim();
      sessionStorage.setItem('dcim_token', token);
      void startPage();
    };
  }
  async function startPage(): Promise<void> {
    renderStatic();
    try {
      state.sites = (await api<{ sites: SiteSummary[] }>('/api/sites')).sites;
      state.clusters = (await api<{ clusters: ClusterSummary[] }>('/api/clusters')).clusters;
    } catch (e) {
      if (e instanceof AuthError) return askToken();
      state.connError = String((e as Error).message);
      renderStatic();
      return;
    }
    state.connError = '';
    $('#login').style.display = 'none';
    $('#app').style.display = '';
    state.bureau = IS_BUREAU;
    if (state.bureau) {
      try {
        await loadReports();
      } catch {
        // lateness is shown as unknown until the next poll
      }
      return startBureau();
    }
    const scopes: [Scope, string, string][] = [...state.sites.map((s): [Scope, string, string] => ['site', 'sites', s.id]), ...state.clusters.map((c): [Scope, string, string] => ['cluster', 'clusters', c.id])];
    await Promise.all([
      ...scopes.flatMap(([scope, path, id]) =>
        ['pue_live', 'green_share_live_ratio'].map(async (kpi) => {
          try {
            state.trends[`${scope}/${id}/${kpi}`] = (await api<{ samples: Sample[] }>(`/api/${path}/${encodeURIComponent(id)}/series?kpi=${kpi}&hours=6`)).samples;
          } catch {
            // the trend starts from the events
          }
        }),
      ),
      ...state.sites.map(async (s) => {
        try {
          state.floors[s.id] = await api<SiteFloor>(`/api/sites/${encodeURIComponent(s.id)}/floor`);
        } catch {
          // the floor arrives with the events
        }
      }),
    ]);
    render();
    follow();
    setInterval(tick, 10_000);
  }
  async function loadReports(): Promise<void> {
    const body = await api<{ sites: BureauSiteReport[] }>('/api/bureau/sites');
    state.reports = Object.fromEntries(body.sites.map((r) => [r.site, r]));
  }
  /** The bureau's figures: each site's and cluster's KPIs, the daily PUE of the last days, then the events. */
  async function startBureau(): Promise<void> {
    const scopes: [Scope, string, string][] = [...state.sites.map((s): [Scope, string, string] => ['site', 'sites', s.id]), ...state.clusters.map((c): [Scope, string, string] => ['cluster', 'clusters', c.id])];
    await Promise.all([
      ...scopes.map(async ([scope, path, id]) => {
        try {
          const body = await api<{ ts: number; kpis: KpiValue[] }>(`/api/${path}/${encodeURIComponent(id)}/kpi`);
          state.msgs[`${scope}/${id}`] = { schema: 1, site: id, ts: body.ts, kpis: body.kpis };
        } catch {
          // the figures arrive with the events
        }
      }),
      ...state.sites.map(async (s) => {
        try {
          state.daily[s.id] = (await api<{ samples: Sample[] }>(`/api/sites/${encodeURIComponent(s.id)}/series?kpi=pue&window=1d&days=${BUREAU_DAYS}`)).samples;
        } catch {
          state.daily[s.id] = [];
        }
        const m = state.msgs[`site/${s.id}`];
        if (m) keepDaily(s.id, m.kpis);
      }),
    ]);
    render();
    follow();
    setInterval(tick, 10_000);
    // Lateness and silence change without a KPI message (a silent site sends none): ask again each minute.
    setInterval(() => {
      loadReports().then(render, () => undefined);
    }, 60_000);
  }
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-lang]');
    if (!b) return;
    lang = b.dataset.lang ?? DEFAULT_LANG;
    localStorage.setItem('dcim_lang', lang);
    const u = new URL(location.href);
    u.searchParams.set('lang', lang);
    history.replaceState(null, '', u.pathname + u.search);
    if ($('#app').style.display === 'none') renderStatic();
    else render();
  });
  void startPage();
}
