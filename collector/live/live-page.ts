import { CATALOGUE, DEFAULT_LANG } from '../i18n/catalogue.js';
import { KPI_REGISTRY } from '../kpi/registry/index.js';
import type { KpiModule } from '../kpi/registry/index.js';
import type { KpiTile } from './page/kpi-tile.js';
import { PAGE_GLOBAL, pageScript } from './page-script.js';

/** The tiles the KPI modules declare (`views.live`), left to right. */
export function liveTiles(modules: readonly KpiModule[]): KpiTile[] {
  const tiles = modules.flatMap((m) => (m.views?.live?.tiles ?? []).map((t) => ({ at: t.at, tile: { kpi: m.name, windows: t.windows, label: t.label ?? [`kpi.${m.name}`], ...(t.beside ? { beside: t.beside } : {}) } })));
  return tiles.sort((a, b) => a.at - b.at).map((t) => t.tile);
}

/**
 * The live page for a wall screen (laid out for 1920 × 1080, read from a few metres): one HTML
 * document with its CSS, script (page/*.ts, bundled: page-script.ts) and message catalogue inline, so it works offline and behind a strict
 * CSP (no CDN, no other asset). It reads /api/sites, /api/clusters and each site's /floor once,
 * the trends from /api/<scope>/:id/series, and then follows /api/events (server-sent events).
 *
 * Per site: live PUE (with its category, quality, and the stale meter it is estimated for), then
 * the tiles the KPI modules declare (today the 15-minute, hour and day PUE, 上架率, 绿电占比,
 * 算力规模 and 智算占比), each against its target
 * in the target status colour; a window that has no value yet says when its first value is due
 * instead of showing "–". Per hall: IT power, hall PUE, racks with power, headroom against rated
 * kW, the inlet temperature of every rack as a heat map in ASHRAE bands, and the cooling units.
 * Firing alerts with their age; trends with time and value axes and the target line.
 *
 * Served by a bureau (`bureau: true`: its source answers GET /api/bureau/sites), the page shows the bureau view instead (page/bureau-view.ts):
 * every site against every target, ranked, with its daily PUE and whether it reports on time.
 *
 * Language: zh-CN by default, `?lang=en` or the header's switch (kept in localStorage). The token,
 * when the API refuses without one, is asked once and kept in sessionStorage (or given as
 * `#token=…`, which browsers never send to the server).
 */
const css = (tiles: number) => `
:root{--bg:#0b1016;--panel:#131b23;--panel2:#18222c;--line:#263340;--text:#e8eef4;--dim:#93a1ae;--green:#2fbf71;--amber:#f0b429;--red:#ef4e4e;--grey:#6b7785;--blue:#4c9bff}
*{box-sizing:border-box}html,body{margin:0;background:var(--bg);color:var(--text);font:16px/1.35 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",Roboto,sans-serif}
header{display:flex;align-items:center;gap:18px;padding:10px 28px;border-bottom:1px solid var(--line);background:#0f161d}
header h1{font-size:22px;margin:0;font-weight:600}header .dot{width:12px;height:12px;border-radius:50%;background:var(--grey);flex:none}
header .dot.on{background:var(--green);box-shadow:0 0 10px var(--green)}#conn{color:var(--dim);font-size:14px}
#clock{margin-left:auto;font-size:22px;font-variant-numeric:tabular-nums;color:var(--dim)}
.langs{display:flex;gap:4px}.langs button{background:transparent;border:1px solid var(--line);color:var(--dim);border-radius:6px;padding:4px 10px;font:inherit;font-size:14px;cursor:pointer}
.langs button.on{background:var(--panel2);color:var(--text);border-color:var(--blue)}
main{padding:14px 28px 28px;display:grid;gap:16px}
h2{font-size:15px;letter-spacing:.04em;color:var(--dim);margin:0 0 8px;font-weight:600}
.site{display:grid;gap:14px}
.site-head{display:grid;grid-template-columns:minmax(0,1.35fr) repeat(${tiles},minmax(0,1fr));gap:10px}
.box{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:10px 14px;border-top:4px solid var(--grey);min-width:0}
.box .l{color:var(--dim);font-size:15px;line-height:1.25}
.box .v{font-size:34px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.15;white-space:nowrap}
.box .w{color:var(--dim);font-size:13px}.box .note{color:var(--amber);font-size:13px;line-height:1.3}
.hero .name{font-size:18px;font-weight:600}.hero .big{font-size:64px;font-weight:800;line-height:1;font-variant-numeric:tabular-nums}
.hero .sub{color:var(--dim);font-size:14px}.hero .stale{color:var(--amber);font-size:14px}
.t-green{border-top-color:var(--green)}.t-amber{border-top-color:var(--amber)}.t-red{border-top-color:var(--red)}.t-grey{border-top-color:var(--grey)}
.s-green{color:var(--green)}.s-amber{color:var(--amber)}.s-red{color:var(--red)}.s-grey{color:var(--grey)}.s-none{color:var(--text)}
.body{display:grid;grid-template-columns:minmax(0,2.1fr) minmax(0,1fr);gap:14px;align-items:start}
.halls{display:grid;gap:14px}.side{display:grid;gap:14px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:0}
.hall-stats{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:10px;margin-bottom:10px}
.stat{background:var(--panel2);border-radius:8px;padding:6px 10px}.stat .l{color:var(--dim);font-size:13px}.stat .v{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}
.stat .w{color:var(--dim);font-size:12px}
.heat{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:6px}
.rack{border-radius:7px;padding:5px 8px;min-height:74px;background:#2a3642;position:relative;overflow:hidden}
.rack .id{font-size:13px;opacity:.85}.rack .temp{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.1;white-space:nowrap}.rack .kw{font-size:12px;opacity:.9;font-variant-numeric:tabular-nums;white-space:nowrap}
.rack .bar{position:absolute;left:0;bottom:0;height:4px;background:rgba(255,255,255,.75)}.rack .bar.full{height:6px;background:#ffd166}
.rack.b-recommended{background:#17613f}.rack.b-allowable{background:#8a6410}.rack.b-outside{background:#9c2424}.rack.b-none{background:#2a3642;color:var(--dim)}
.rack.idle{opacity:.55}.rack.reserved,.rack.planned{background:repeating-linear-gradient(135deg,#1c2630 0 8px,#222e39 8px 16px);color:var(--dim)}
.legend{display:flex;gap:16px;color:var(--dim);font-size:13px;margin:8px 0 4px;flex-wrap:wrap}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.cooling{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:6px;margin-top:8px}
.unit{background:var(--panel2);border-radius:8px;padding:6px 10px;border-left:4px solid var(--grey);font-size:14px}
.unit b{font-size:15px}.unit .st{float:right;font-weight:600}.unit .w{color:var(--dim);font-size:13px}
.u-running{border-left-color:var(--green)}.u-alarm{border-left-color:var(--red)}.u-stopped{border-left-color:var(--grey)}.u-offline{border-left-color:var(--red)}.u-unknown{border-left-color:var(--grey)}
.alerts ul{margin:0;padding:0}.alerts li{list-style:none;background:var(--panel2);border-left:4px solid var(--amber);border-radius:8px;padding:7px 10px;margin-bottom:6px;font-size:15px}
.alerts li.critical{border-left-color:var(--red)}.alerts li.info{border-left-color:var(--blue)}
.alerts .sev{font-weight:700;margin-right:6px}.alerts .age{float:right;font-weight:700;font-variant-numeric:tabular-nums}.alerts .where{color:var(--dim);font-size:13px}
.none{color:var(--dim)}.off{color:var(--amber)}
svg.chart{width:100%;height:auto;display:block}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{padding:7px 12px;text-align:left;border-bottom:1px solid var(--line);font-variant-numeric:tabular-nums}th{color:var(--dim);font-weight:500;font-size:14px}
.pill{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:middle}
.p-green{background:var(--green)}.p-amber{background:var(--amber)}.p-red{background:var(--red)}.p-grey{background:var(--grey)}
.meta{color:var(--dim);font-size:13px}
#login{max-width:420px;margin:80px auto;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:20px}
#login input{width:100%;padding:8px;margin:10px 0;background:#0b1016;border:1px solid var(--line);color:var(--text);border-radius:6px}
#login button{padding:8px 14px;background:#2f81f7;border:0;color:#fff;border-radius:6px;cursor:pointer}
.bview{display:grid;gap:12px}.btiles{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:10px}
.branking td,.bclusters td{vertical-align:top}.branking .rank{font-size:22px;font-weight:700;width:56px}.branking .name{font-weight:600}
.branking .fv,.bclusters .fv{font-size:20px;font-weight:700}svg.bspark{width:150px;height:40px;display:block}
tr.r-late td:first-child{box-shadow:inset 4px 0 0 var(--amber)}tr.r-silent td:first-child{box-shadow:inset 4px 0 0 var(--red)}tr.r-silent td{opacity:.7}
td[data-report="late"]{color:var(--amber)}td[data-report="silent"]{color:var(--red)}td[data-report="on-time"]{color:var(--green)}
`;

/**
 * The page: CSS, then the bundled script, started with the catalogue, each registered KPI's
 * number format and the tiles the modules declare (`modules`: the registry unless a test gives
 * its own), embedded as JSON (`<` escaped so no string can close the script), and whether
 * the server is a bureau (told, not probed: a probe's 404 is an error in the console).
 */
export function livePageHtml(o: { bureau?: boolean; modules?: readonly KpiModule[] } = {}): string {
  const modules = o.modules ?? KPI_REGISTRY;
  const tiles = liveTiles(modules);
  const i18n = JSON.stringify(CATALOGUE).replace(/</g, '\\u003c');
  const formats = JSON.stringify(Object.fromEntries(modules.map((m) => [m.name, m.display.format]))).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${DEFAULT_LANG}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>dcim-pulse</title><style>${css(tiles.length)}</style></head>
<body><header><span id="live" class="dot"></span><h1 id="title">dcim-pulse</h1><span id="conn"></span><span id="clock"></span><span id="langs" class="langs"></span></header>
<div id="login" style="display:none"><form><b id="login-title"></b><div id="login-hint" class="none"></div><input id="tok" type="password" autocomplete="off"><button id="login-open" type="submit"></button></form></div>
<main id="app"><div id="sites"></div><section id="bureau"></section></main>
<script>${pageScript()}
${PAGE_GLOBAL}.start(${i18n}, ${JSON.stringify(DEFAULT_LANG)}, ${o.bureau === true}, ${formats}, ${JSON.stringify(tiles).replace(/</g, '\\u003c')});</script></body></html>
`;
}
