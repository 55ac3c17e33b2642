import { CATALOGUE, DEFAULT_LANG } from '../i18n/catalogue.js';

/**
 * The live page for a wall screen (laid out for 1920 × 1080, read from a few metres): one HTML
 * document with its CSS, JS and message catalogue inline, so it works offline and behind a strict
 * CSP (no CDN, no other asset). It reads /api/sites, /api/clusters and each site's /floor once,
 * the trends from /api/<scope>/:id/series, and then follows /api/events (server-sent events).
 *
 * Per site: live PUE (with its category, quality, and the stale meter it is estimated for), the
 * 15-minute, hour and day PUE, 上架率, 绿电占比, 算力规模 and 智算占比, each against its target
 * in the target status colour; a window that has no value yet says when its first value is due
 * instead of showing "–". Per hall: IT power, hall PUE, racks with power, headroom against rated
 * kW, the inlet temperature of every rack as a heat map in ASHRAE bands, and the cooling units.
 * Firing alerts with their age; trends with time and value axes and the target line.
 *
 * Language: zh-CN by default, `?lang=en` or the header's switch (kept in localStorage). The token,
 * when the API refuses without one, is asked once and kept in sessionStorage (or given as
 * `#token=…`, which browsers never send to the server).
 */
const CSS = `
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
.site-head{display:grid;grid-template-columns:minmax(0,1.35fr) repeat(7,minmax(0,1fr));gap:10px}
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
.rack .bar{position:absolute;left:0;bottom:0;height:4px;background:rgba(255,255,255,.75)}
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
`;

const JS = `
"use strict";
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const LANGS = Object.keys(I18N);
function langOf(s) { const v = String(s || "").toLowerCase(); if (v === "zh" || v.startsWith("zh-")) return "zh-CN"; if (v === "en" || v.startsWith("en-")) return "en"; return ""; }
let lang = langOf(new URLSearchParams(location.search).get("lang")) || langOf(localStorage.getItem("dcim_lang")) || DEFAULT_LANG;
const t = (key, vars) => String(I18N[lang][key] ?? key).replace(/\\{([a-z_]+)\\}/g, (m, n) => (vars && n in vars ? String(vars[n]) : m));
const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (hashToken) { sessionStorage.setItem("dcim_token", hashToken); history.replaceState(null, "", location.pathname + location.search); }
let token = sessionStorage.getItem("dcim_token") || "";
// offset: the collector's clock minus this screen's, from the events' ts (alert ages use it).
const state = { sites: [], clusters: [], msgs: {}, trends: {}, floors: {}, alerts: [], alertsConfigured: null, offset: 0, conn: "conn.connecting", connError: "" };
const serverNow = () => Date.now() + state.offset;
const Q = 15 * 60000, WIN_MS = { "15m": Q, "1h": 3600000, "1d": 86400000 };

async function api(path) {
  const r = await fetch(path, { headers: token ? { authorization: "Bearer " + token } : {} });
  if (r.status === 401) { const e = new Error("token"); e.auth = true; throw e; }
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
function pick(kpis, name, wins) {
  const all = (kpis || []).filter((k) => k.kpi === name);
  for (const w of wins) { const k = all.find((x) => x.window === w && x.ok && x.value !== undefined); if (k) return k; }
  for (const w of wins) { const k = all.find((x) => x.window === w); if (k) return k; }
  return undefined;
}
const num = (v, d) => v.toFixed(d);
const pct = (v) => (v * 100).toFixed(1) + " %";
const kw = (w) => (w === null || w === undefined ? "–" : (w / 1000).toFixed(1) + " kW");
function fmt(k) {
  const v = k.value;
  if (k.kpi.startsWith("pue")) return num(v, 3);
  if (k.kpi.endsWith("_ratio")) return pct(v);
  if (k.kpi.endsWith("_pct")) return num(v, 1) + " %";
  if (k.kpi.endsWith("_pflops")) return num(v, 2) + " PF";
  return String(Math.round(v * 1000) / 1000);
}
const has = (k) => !!(k && k.ok && k.value !== undefined);
const st = (k) => (k && k.status) || "grey";
const valueClass = (k) => (k && k.target === undefined && has(k) ? "s-none" : "s-" + st(k));
function tzOf(site) { const s = state.sites.find((x) => x.id === site); return s ? s.timezone : undefined; }
function fmtTime(ms, tz, withDate) {
  const o = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) { o.month = "2-digit"; o.day = "2-digit"; }
  try { return new Intl.DateTimeFormat(lang, { ...o, timeZone: tz }).format(new Date(ms)); } catch (e) { return new Intl.DateTimeFormat(lang, o).format(new Date(ms)); }
}
function fmtAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t("age.s", { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("age.min", { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t("age.h", { h, m: m % 60 });
  return t("age.d", { d: Math.floor(h / 24), h: h % 24 });
}
// A window without a value says why and when its first value is due. The published window is the
// last complete one: if data reached into it (coverage > 0) the next window is the first complete
// one, else data began inside the running window and the one after it is the first complete one.
function fillNote(k, tz) {
  if (!k) return t("site.waiting");
  if (has(k)) return "";
  const len = WIN_MS[k.window];
  if (len && k.coverage < 0.8) {
    const first = k.window_end + (k.coverage > 0 ? 1 : 2) * len;
    return t("fill.coverage", { pct: pct(k.coverage) }) + " · " + t("fill.first_value", { time: fmtTime(first, tz, len >= 86400000 || first - serverNow() > 86400000) });
  }
  return t("fill.no_data", { reason: String(k.reason || "").replace(/^DCIM_E_[A-Z_]+: /, "").slice(0, 90) });
}
function kpiBox(k, label, tz, extra) {
  const win = k ? t("window." + k.window) + " · " + t("quality." + k.quality) + (k.target !== undefined ? " · " + t("pue.target", { value: k.kpi.endsWith("_ratio") ? pct(k.target) : k.target }) : "") : "";
  const v = has(k) ? '<div class="v ' + valueClass(k) + '">' + fmt(k) + "</div>" : '<div class="v s-grey">–</div><div class="note">' + esc(fillNote(k, tz)) + "</div>";
  return '<div class="box t-' + st(k) + '" data-kpi="' + (k ? k.kpi + "/" + k.window : label) + '"><div class="l">' + esc(label) + "</div>" + v + '<div class="w">' + esc(win) + "</div>" + (extra || "") + "</div>";
}
function staleNote(live) {
  const list = (live && live.stale_meters) || [];
  if (!list.length) return "";
  const names = list.slice(0, 3).map((m) => m.device).join(", ") + (list.length > 3 ? " …" : "");
  return '<div class="stale" data-stale="' + esc(list.map((m) => m.device).join(",")) + '">' + esc(t("pue.stale_meter", { meters: names })) + "</div>";
}
function hero(scope, id, name, m, tz) {
  const kpis = m ? m.kpis : [];
  const live = pick(kpis, "pue_live", ["instant"]);
  const inp = (live && live.inputs) || {};
  let sub;
  if (!live) sub = t("site.waiting");
  else {
    const parts = [t("pue.instantaneous")];
    if (live.category) parts.push(t("pue.category", { n: "₀₁₂₃"[live.category] }));
    parts.push(t("quality." + live.quality));
    if (live.target !== undefined) parts.push(t("pue.target", { value: live.target }));
    sub = parts.join(" · ");
  }
  const reason = live && !has(live) ? '<div class="stale">' + esc(fillNote(live, tz)) + "</div>" : "";
  return '<div class="box hero t-' + st(live) + '"><div class="name">' + esc(name) + '</div><div class="big ' + valueClass(live) + '" data-kpi="pue_live">' + (has(live) ? fmt(live) : "–") + "</div>" +
    '<div class="sub">' + esc(t("kpi.pue_live")) + " · " + esc(sub) + "</div>" + reason + staleNote(live) +
    '<div class="sub">' + esc(t("pue.powers", { facility: kw(inp.facility_power_w), it: kw(inp.it_power_w) })) + '</div><div class="sub">' + esc(t("site.updated", { time: "" })) + '<span class="ts" data-ts="' + (m ? m.ts : "") + '">' + (m ? fmtTime(m.ts, tz) : "–") + "</span></div></div>";
}
function siteHead(scope, id, name, tz) {
  const m = state.msgs[scope + "/" + id];
  const kpis = m ? m.kpis : [];
  const ai = pick(kpis, "compute_ai_pflops", ["instant", "1d"]), gen = pick(kpis, "compute_general_pflops", ["instant", "1d"]);
  const greenNow = pick(kpis, "green_share_live_ratio", ["instant"]);
  const computeExtra = has(gen) ? '<div class="w">' + esc(t("kpi.compute_general_pflops")) + " " + fmt(gen) + "</div>" : "";
  const greenExtra = has(greenNow) ? '<div class="w">' + esc(t("kpi.green_share_live_ratio")) + " " + fmt(greenNow) + "</div>" : "";
  return '<div class="site-head">' + hero(scope, id, name, m, tz) +
    kpiBox(pick(kpis, "pue", ["15m"]), t("kpi.pue") + " · " + t("window.15m"), tz) +
    kpiBox(pick(kpis, "pue", ["1h"]), t("kpi.pue") + " · " + t("window.1h"), tz) +
    kpiBox(pick(kpis, "pue", ["1d"]), t("kpi.pue") + " · " + t("window.1d"), tz) +
    kpiBox(pick(kpis, "rack_occupancy_ratio", ["1d", "instant", "1mo"]), t("kpi.rack_occupancy_ratio"), tz) +
    kpiBox(pick(kpis, "green_share_ratio", ["1mo", "1d", "ytd"]), t("kpi.green_share_ratio"), tz, greenExtra) +
    kpiBox(ai, t("kpi.compute_scale") + " · " + t("kpi.compute_ai_pflops"), tz, computeExtra) +
    kpiBox(pick(kpis, "compute_ai_share_ratio", ["instant", "1d"]), t("kpi.compute_ai_share_ratio"), tz) + "</div>";
}
const deg = (c) => (c === null || c === undefined ? "–" : c.toFixed(1) + " °C");
function hallPanel(h) {
  const title = h.id === null ? t("hall.site_wide") : t("hall.title", { name: h.name });
  let html = '<div class="panel hall" data-hall="' + esc(h.id || "") + '"><h2>' + esc(title) + "</h2>";
  if (h.id !== null) {
    const pue = h.pue && h.pue.ok ? num(h.pue.value, 3) : "–";
    const pueNote = h.pue && h.pue.ok ? t("pue.instantaneous") : t("hall.pue_none");
    html += '<div class="hall-stats">' +
      '<div class="stat"><div class="l">' + esc(t("hall.it_power")) + '</div><div class="v">' + kw(h.it_power_w) + "</div></div>" +
      '<div class="stat"><div class="l">' + esc(t("hall.pue")) + '</div><div class="v" data-hall-pue>' + pue + '</div><div class="w">' + esc(pueNote) + "</div></div>" +
      '<div class="stat"><div class="l">' + esc(t("hall.racks_powered")) + '</div><div class="v" data-racks-powered>' + h.racks_powered + " / " + h.racks_available + "</div></div>" +
      '<div class="stat"><div class="l">' + esc(t("hall.headroom")) + '</div><div class="v">' + (h.headroom_kw === null ? "–" : h.headroom_kw.toFixed(1) + " kW") + '</div><div class="w">' + esc(t("hall.headroom_of", { rated: h.rated_kw.toFixed(0) + " kW" })) + "</div></div>" +
      '<div class="stat"><div class="l">' + esc(t("hall.inlet")) + '</div><div class="v">' + (h.inlet_max_c === null ? "–" : h.inlet_min_c.toFixed(1) + "–" + h.inlet_max_c.toFixed(1) + " °C") + "</div></div></div>";
    html += '<div class="heat">' + h.racks.map((r) => {
      const band = r.inlet_band || "none";
      const cls = r.status !== "available" ? r.status : "b-" + band + (r.powered ? "" : " idle");
      const ratio = r.power_w === null ? 0 : Math.min(1, r.power_w / 1000 / r.rated_kw);
      const tip = t("rack.tooltip", { rack: r.id, power: kw(r.power_w), rated: r.rated_kw + " kW", temp: deg(r.inlet_temp_c) });
      const status = r.status !== "available" ? '<div class="kw">' + esc(t("rack." + r.status)) + "</div>" : "";
      return '<div class="rack ' + cls + '" data-rack="' + esc(r.id) + '" data-band="' + band + '" data-temp="' + (r.inlet_temp_c ?? "") + '" title="' + esc(tip) + '"><div class="id">' + esc(r.id) + '</div><div class="temp">' + deg(r.inlet_temp_c) + '</div><div class="kw">' + kw(r.power_w) + " / " + r.rated_kw + " kW</div>" + status + '<div class="bar" style="width:' + (ratio * 100).toFixed(0) + '%"></div></div>';
    }).join("") + "</div>";
    html += '<div class="legend"><span><i style="background:#17613f"></i>' + esc(t("band.recommended")) + '</span><span><i style="background:#8a6410"></i>' + esc(t("band.allowable")) + '</span><span><i style="background:#9c2424"></i>' + esc(t("band.outside")) + '</span><span><i style="background:#2a3642"></i>' + esc(t("band.none")) + "</span></div>";
  }
  html += "<h2>" + esc(t("cooling.title")) + "</h2>";
  html += h.cooling.length ? '<div class="cooling">' + h.cooling.map((u) => {
    const temps = u.supply_temp_c !== null || u.return_temp_c !== null ? '<div class="w">' + esc(t("cooling.supply_return", { supply: deg(u.supply_temp_c), ret: deg(u.return_temp_c) })) + (u.power_w !== null ? " · " + kw(u.power_w) : "") + "</div>" : "";
    const alarms = u.alarms.length ? '<div class="w s-red">' + esc(u.alarms.join(", ")) + "</div>" : "";
    return '<div class="unit u-' + u.state + '" data-unit="' + esc(u.id) + '" data-state="' + u.state + '"><span class="st">' + esc(t("cooling." + u.state)) + "</span><b>" + esc(u.id) + '</b> <span class="meta">' + esc(t("cooling." + u.class)) + "</span>" + temps + alarms + "</div>";
  }).join("") + "</div>" : '<p class="none">' + esc(t("cooling.none")) + "</p>";
  return html + "</div>";
}
// A trend with a time axis, a value axis with its unit, and the target as a dashed line.
function chart(samples, opts) {
  const W = 600, H = 230, L = 62, R = 14, T = 30, B = 34;
  const head = '<text x="' + L + '" y="18" fill="#e8eef4" font-size="15" font-weight="600">' + esc(opts.title) + "</text>";
  if (!samples || samples.length < 2) return '<svg class="chart ' + opts.cls + '" data-n="0" viewBox="0 0 ' + W + " " + H + '">' + head + '<text x="' + L + '" y="' + H / 2 + '" fill="#93a1ae" font-size="14">' + esc(t("trend.collecting")) + "</text></svg>";
  const xs = samples.map((s) => s.ts_ms), ys = samples.map((s) => s.value);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (opts.target !== undefined) { lo = Math.min(lo, opts.target); hi = Math.max(hi, opts.target); }
  const pad = Math.max(opts.minPad, (hi - lo) * 0.15); hi += pad; lo -= pad;
  const x0 = xs[0], x1 = xs[xs.length - 1], dx = Math.max(1, x1 - x0);
  const X = (v) => L + ((v - x0) / dx) * (W - L - R), Y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - T - B);
  let g = "";
  const step = niceStep((hi - lo) / 4);
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    g += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + Y(v).toFixed(1) + '" y2="' + Y(v).toFixed(1) + '" stroke="#263340"/><text x="' + (L - 6) + '" y="' + (Y(v) + 4).toFixed(1) + '" fill="#93a1ae" font-size="12" text-anchor="end">' + esc(opts.tick(v)) + "</text>";
  }
  const tStep = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3].find((s) => dx / s <= 6) || 3 * 3600e3;
  for (let v = Math.ceil(x0 / tStep) * tStep; v <= x1; v += tStep) {
    g += '<line x1="' + X(v).toFixed(1) + '" x2="' + X(v).toFixed(1) + '" y1="' + (H - B) + '" y2="' + (H - B + 5) + '" stroke="#93a1ae"/><text x="' + X(v).toFixed(1) + '" y="' + (H - B + 18) + '" fill="#93a1ae" font-size="12" text-anchor="middle">' + esc(fmtTime(v, opts.tz)) + "</text>";
  }
  g += '<line x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '" stroke="#93a1ae"/><line x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '" stroke="#93a1ae"/>';
  g += '<text x="6" y="' + (T - 2) + '" fill="#93a1ae" font-size="12">' + esc(opts.unit) + '</text><text x="' + (W - R) + '" y="' + (H - 2) + '" fill="#93a1ae" font-size="12" text-anchor="end">' + esc(t("trend.time")) + "</text>";
  const d = samples.map((s, i) => (i ? "L" : "M") + X(s.ts_ms).toFixed(1) + " " + Y(s.value).toFixed(1)).join(" ");
  const tl = opts.target === undefined ? "" : '<line class="target" x1="' + L + '" x2="' + (W - R) + '" y1="' + Y(opts.target).toFixed(1) + '" y2="' + Y(opts.target).toFixed(1) + '" stroke="#f0b429" stroke-dasharray="6 4" stroke-width="1.5"/><text x="' + (W - R - 4) + '" y="' + (Y(opts.target) - 5).toFixed(1) + '" fill="#f0b429" font-size="12" text-anchor="end">' + esc(t("trend.target", { value: opts.tick(opts.target) + (opts.unit === "%" ? " %" : "") })) + "</text>";
  return '<svg class="chart ' + opts.cls + '" data-n="' + samples.length + '" viewBox="0 0 ' + W + " " + H + '">' + head + g + tl + '<path d="' + d + '" fill="none" stroke="#4c9bff" stroke-width="2.5"/></svg>';
}
function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
function spanText(samples) {
  if (!samples || samples.length < 2) return "";
  const mins = Math.round((samples[samples.length - 1].ts_ms - samples[0].ts_ms) / 60000);
  return mins < 120 ? t("age.min", { n: Math.max(1, mins) }) : t("age.h", { h: Math.floor(mins / 60), m: mins % 60 });
}
function trends(scope, id, tz) {
  const key = scope + "/" + id;
  const m = state.msgs[key];
  const live = m && pick(m.kpis, "pue_live", ["instant"]);
  const green = m && pick(m.kpis, "green_share_live_ratio", ["instant"]);
  const pueS = state.trends[key + "/pue_live"], greenS = state.trends[key + "/green_share_live_ratio"];
  return '<div class="panel trend">' +
    chart(pueS, { cls: "spark", title: t("trend.title", { span: spanText(pueS) }), unit: "PUE", target: live && live.target, tick: (v) => v.toFixed(2), minPad: 0.02, tz }) +
    chart(greenS && greenS.map((s) => ({ ts_ms: s.ts_ms, value: s.value * 100 })), { cls: "green", title: t("kpi.green_share_live_ratio") + " (" + t("window.instant") + ")", unit: "%", target: green && green.target !== undefined ? green.target * 100 : undefined, tick: (v) => v.toFixed(0), minPad: 2, tz }) + "</div>";
}
function alertsPanel(site) {
  let body;
  if (state.alertsConfigured === false) body = '<p class="off" data-alerts="off">' + esc(t("alerts.not_configured")) + "</p>";
  else if (state.alertsConfigured === null) body = '<p class="none">' + esc(t("conn.connecting")) + "</p>";
  else {
    const list = state.alerts.filter((a) => site === undefined || a.site === site);
    const rank = { critical: 0, warning: 1, info: 2 };
    list.sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || (a.starts_at ?? 0) - (b.starts_at ?? 0));
    body = list.length ? "<ul>" + list.map((a) => {
      const l = a.labels || {};
      const where = [l.hall, l.rack, l.device].filter((x) => x).join(" · ");
      const age = a.starts_at ? '<span class="age" data-starts="' + a.starts_at + '">' + esc(fmtAge(serverNow() - a.starts_at)) + "</span>" : "";
      return '<li class="' + esc(a.severity) + '" data-alert="' + esc(a.id) + '">' + age + '<span class="sev">' + esc(t("severity." + a.severity)) + "</span>" + esc(a.name) + '<div class="where">' + esc(where || a.site) + " — " + esc(a.summary) + "</div></li>";
    }).join("") + "</ul>" : '<p class="none" data-alerts="none">' + esc(t("alerts.none")) + "</p>";
  }
  return '<div class="panel alerts"><h2>' + esc(t("alerts.title")) + "</h2>" + body + "</div>";
}
function siteSection(s) {
  const tz = s.timezone;
  const f = state.floors[s.id];
  const halls = f ? f.halls.map(hallPanel).join("") : '<div class="panel"><p class="none">' + esc(t("site.waiting")) + "</p></div>";
  const meta = t("site.meta", { racks: s.racks, devices: s.devices }) + (s.devices_down ? " · " + t("site.down", { n: s.devices_down }) : "");
  return '<section class="site card" data-scope="site" data-id="' + esc(s.id) + '">' + siteHead("site", s.id, s.name + " · " + meta, tz) +
    '<div class="body"><div class="halls">' + halls + '</div><div class="side">' + alertsPanel(s.id) + trends("site", s.id, tz) + "</div></div></section>";
}
function clusterSection(c) {
  return '<section class="site card" data-scope="cluster" data-id="' + esc(c.id) + '">' + siteHead("cluster", c.id, c.name + " · " + t("clusters.of", { sites: c.sites.join(", ") }), undefined) + "</section>";
}
function bureauRow(scope, id, name) {
  const m = state.msgs[scope + "/" + id];
  const kpis = m ? m.kpis : [];
  const cell = (n, wins) => { const k = pick(kpis, n, wins); return '<td><span class="pill p-' + st(k) + '"></span>' + (has(k) ? fmt(k) : "–") + (k ? ' <span class="meta">' + esc(t("window." + k.window)) + "</span>" : "") + "</td>"; };
  const q = pick(kpis, "pue", ["1d", "1mo", "1h"]);
  return "<tr><td>" + (scope === "cluster" ? "◇ " : "") + esc(name) + "</td>" + cell("pue_live", ["instant"]) + cell("pue", ["1mo", "1d", "1h"]) + cell("green_share_ratio", ["1mo", "1d"]) + cell("rack_occupancy_ratio", ["1d", "instant", "1mo"]) + cell("compute_ai_pflops", ["instant", "1d"]) + "<td>" + (q ? esc(t("quality." + q.quality)) : "–") + "</td></tr>";
}
function renderStatic() {
  document.documentElement.lang = lang;
  document.title = t("page.title");
  $("#title").textContent = t("page.title");
  $("#langs").innerHTML = LANGS.map((l) => '<button type="button" data-lang="' + l + '" class="' + (l === lang ? "on" : "") + '">' + esc(I18N[l]["lang.name"]) + "</button>").join("");
  $("#login-title").textContent = t("login.title");
  $("#login-hint").textContent = t("login.hint");
  $("#login-open").textContent = t("login.open");
  $("#conn").textContent = state.connError || t(state.conn);
  $("#live").classList.toggle("on", state.conn === "conn.live");
}
function render() {
  renderStatic();
  $("#sites").innerHTML = state.sites.map(siteSection).join("") + state.clusters.map(clusterSection).join("") || '<p class="none">' + esc(t("site.none")) + "</p>";
  const rows = state.sites.map((s) => bureauRow("site", s.id, s.name)).join("") + state.clusters.map((c) => bureauRow("cluster", c.id, c.name)).join("");
  $("#bureau").innerHTML = state.sites.length + state.clusters.length > 1 ? "<h2>" + esc(t("bureau.title")) + "</h2><table><thead><tr><th>" + esc(t("bureau.scope")) + "</th><th>" + esc(t("kpi.pue_live")) + "</th><th>" + esc(t("kpi.pue")) + "</th><th>" + esc(t("kpi.green_share_ratio")) + "</th><th>" + esc(t("kpi.rack_occupancy_ratio")) + "</th><th>" + esc(t("kpi.compute_ai_pflops")) + "</th><th>" + esc(t("bureau.quality")) + "</th></tr></thead><tbody>" + rows + "</tbody></table>" : "";
  tick();
}
function tick() {
  const s = state.sites[0];
  $("#clock").textContent = fmtTime(serverNow(), s && s.timezone);
  for (const el of document.querySelectorAll(".age[data-starts]")) el.textContent = fmtAge(serverNow() - Number(el.dataset.starts));
}
function push(key, ts, value) {
  const list = (state.trends[key] = state.trends[key] || []);
  if (!list.length || ts > list[list.length - 1].ts_ms) list.push({ ts_ms: ts, value });
  while (list.length && (list[0].ts_ms < ts - 6 * 3600000 || list.length > 4000)) list.shift();
}
function onKpi(msg) {
  const key = msg.scope + "/" + msg.site;
  state.msgs[key] = msg;
  for (const name of ["pue_live", "green_share_live_ratio"]) { const k = pick(msg.kpis, name, ["instant"]); if (has(k)) push(key + "/" + name, msg.ts, k.value); }
  render();
}
function follow() {
  const es = new EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  es.onopen = () => { state.conn = "conn.live"; renderStatic(); };
  es.onerror = () => { state.conn = "conn.reconnecting"; renderStatic(); };
  es.addEventListener("kpi", (e) => onKpi(JSON.parse(e.data)));
  es.addEventListener("alert", (e) => { const d = JSON.parse(e.data); state.alerts = d.alerts; state.alertsConfigured = d.configured !== false; if (d.ts) state.offset = d.ts - Date.now(); render(); });
  es.addEventListener("floor", (e) => { const f = JSON.parse(e.data); state.floors[f.site] = f; if (f.ts) state.offset = f.ts - Date.now(); render(); });
}
async function startPage() {
  renderStatic();
  try {
    state.sites = (await api("/api/sites")).sites;
    state.clusters = (await api("/api/clusters")).clusters;
  } catch (e) {
    if (e.auth) return askToken();
    state.connError = String(e.message);
    renderStatic();
    return;
  }
  state.connError = "";
  $("#login").style.display = "none";
  $("#app").style.display = "";
  const series = [...state.sites.map((s) => ["site", "sites", s.id]), ...state.clusters.map((c) => ["cluster", "clusters", c.id])].flatMap((x) => ["pue_live", "green_share_live_ratio"].map((k) => [...x, k]));
  await Promise.all([
    ...series.map(async ([scope, path, id, kpi]) => {
      try { state.trends[scope + "/" + id + "/" + kpi] = (await api("/api/" + path + "/" + encodeURIComponent(id) + "/series?kpi=" + kpi + "&hours=6")).samples; } catch (e) { /* the trend starts from the events */ }
    }),
    ...state.sites.map(async (s) => { try { state.floors[s.id] = await api("/api/sites/" + encodeURIComponent(s.id) + "/floor"); } catch (e) { /* the floor arrives with the events */ } }),
  ]);
  render();
  follow();
  setInterval(tick, 10000);
}
function askToken() {
  $("#app").style.display = "none";
  $("#login").style.display = "";
  $("#login form").onsubmit = (ev) => { ev.preventDefault(); token = $("#tok").value.trim(); sessionStorage.setItem("dcim_token", token); startPage(); };
}
document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-lang]");
  if (!b) return;
  lang = b.dataset.lang;
  localStorage.setItem("dcim_lang", lang);
  const u = new URL(location.href); u.searchParams.set("lang", lang); history.replaceState(null, "", u.pathname + u.search);
  if ($("#app").style.display === "none") renderStatic(); else render();
});
startPage();
`;

/** The page; the catalogue is embedded as JSON (`<` escaped so no string can close the script). */
export function livePageHtml(): string {
  const i18n = JSON.stringify(CATALOGUE).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${DEFAULT_LANG}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>dcim-pulse</title><style>${CSS}</style></head>
<body><header><span id="live" class="dot"></span><h1 id="title">dcim-pulse</h1><span id="conn"></span><span id="clock"></span><span id="langs" class="langs"></span></header>
<div id="login" style="display:none"><form><b id="login-title"></b><div id="login-hint" class="none"></div><input id="tok" type="password" autocomplete="off"><button id="login-open" type="submit"></button></form></div>
<main id="app"><div id="sites"></div><section id="bureau"></section></main>
<script>const I18N = ${i18n};const DEFAULT_LANG = ${JSON.stringify(DEFAULT_LANG)};${JS}</script></body></html>
`;
}
