/**
 * The live page: one HTML document with its CSS and JS inline, so it works offline and behind a
 * strict CSP (no CDN, no other asset). It reads /api/sites and /api/clusters once, the trends from
 * /api/<scope>/:id/series, and then follows /api/events (server-sent events). The token, when the
 * API refuses without one, is asked once and kept in sessionStorage (or given as `#token=…`, which
 * browsers never send to the server). Values are painted by their target status colour.
 */
const CSS = `
:root{--bg:#0f1419;--panel:#182029;--line:#2a3642;--text:#e6edf3;--dim:#8b98a5;--green:#2fbf71;--amber:#f0b429;--red:#ef4e4e;--grey:#6b7785}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:center;gap:16px;padding:14px 24px;border-bottom:1px solid var(--line);background:#121a21}
header h1{font-size:18px;margin:0;font-weight:600;letter-spacing:.02em}header .dot{width:10px;height:10px;border-radius:50%;background:var(--grey)}
header .dot.on{background:var(--green);box-shadow:0 0 8px var(--green)}#conn{color:var(--dim);font-size:12px}
main{padding:20px 24px;display:grid;gap:20px}h2{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:var(--dim);margin:0 0 10px;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.card .top{display:flex;justify-content:space-between;align-items:baseline}.card .name{font-size:16px;font-weight:600}.card .meta{color:var(--dim);font-size:12px}
.hero{display:flex;align-items:center;gap:20px;margin:12px 0}.big{font-size:52px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1}
.hero .sub{color:var(--dim);font-size:12px}.spark{flex:1;min-width:240px;max-width:560px;aspect-ratio:560/84;margin-left:auto;background:#141c24;border-radius:8px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}.tile{background:#1e2833;border-radius:8px;padding:8px 10px;border-left:3px solid var(--grey)}
.tile .l{color:var(--dim);font-size:11px}.tile .v{font-size:17px;font-weight:600;font-variant-numeric:tabular-nums}.tile .w{color:var(--dim);font-size:10px}
.s-green{color:var(--green)}.s-amber{color:var(--amber)}.s-red{color:var(--red)}.s-grey{color:var(--grey)}
.b-green{border-left-color:var(--green)}.b-amber{border-left-color:var(--amber)}.b-red{border-left-color:var(--red)}.b-grey{border-left-color:var(--grey)}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{padding:8px 12px;text-align:left;border-bottom:1px solid var(--line);font-variant-numeric:tabular-nums}th{color:var(--dim);font-weight:500;font-size:12px}
.pill{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;vertical-align:middle}
.p-green{background:var(--green)}.p-amber{background:var(--amber)}.p-red{background:var(--red)}.p-grey{background:var(--grey)}
.alerts li{list-style:none;background:var(--panel);border:1px solid var(--line);border-left:3px solid var(--amber);border-radius:8px;padding:8px 12px;margin-bottom:6px}
.alerts li.critical{border-left-color:var(--red)}.alerts ul{margin:0;padding:0}.none{color:var(--dim)}
#login{max-width:360px;margin:80px auto;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:20px}
#login input{width:100%;padding:8px;margin:10px 0;background:#0f1419;border:1px solid var(--line);color:var(--text);border-radius:6px}
#login button{padding:8px 14px;background:#2f81f7;border:0;color:#fff;border-radius:6px;cursor:pointer}
`;

const JS = `
"use strict";
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (hashToken) { sessionStorage.setItem("dcim_token", hashToken); history.replaceState(null, "", location.pathname); }
let token = sessionStorage.getItem("dcim_token") || "";
const state = { sites: [], clusters: [], msgs: {}, trends: {}, alerts: [] };
const TILES = [
  ["pue", "PUE", ["1d", "1h", "15m", "1mo"]],
  ["green_share_ratio", "Green share", ["1d", "1mo"]],
  ["rack_occupancy_ratio", "Rack occupancy", ["instant", "1d", "1mo"]],
  ["it_load_utilisation_ratio", "IT load", ["instant", "1d"]],
  ["compute_ai_pflops", "AI compute", ["instant", "1d"]],
  ["compute_general_pflops", "General compute", ["instant", "1d"]],
  ["accelerator_utilisation_pct", "Accelerators", ["instant", "1h", "1d"]],
  ["green_share_live_ratio", "Green now", ["instant"]],
];
async function api(path) {
  const r = await fetch(path, { headers: token ? { authorization: "Bearer " + token } : {} });
  if (r.status === 401) { const e = new Error("token"); e.auth = true; throw e; }
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
function pick(kpis, name, wins) {
  const all = (kpis || []).filter((k) => k.kpi === name);
  for (const w of wins) { const k = all.find((x) => x.window === w && x.ok && x.value !== undefined); if (k) return k; }
  return all.find((x) => wins.includes(x.window)) || all[0];
}
function fmt(k) {
  if (!k || !k.ok || k.value === undefined) return "–";
  const v = k.value;
  if (k.kpi.startsWith("pue")) return v.toFixed(3);
  if (k.kpi.endsWith("_ratio")) return (v * 100).toFixed(1) + " %";
  if (k.kpi.endsWith("_pct")) return v.toFixed(1) + " %";
  if (k.kpi.endsWith("_pflops")) return v.toFixed(2) + " PF";
  return String(Math.round(v * 1000) / 1000);
}
const st = (k) => (k && k.status) || "grey";
function spark(samples, target) {
  const w = 560, h = 84, p = 6;
  if (!samples || samples.length < 2) return '<svg class="spark" data-n="0" viewBox="0 0 ' + w + " " + h + '"><text x="10" y="46" fill="#8b98a5" font-size="11">trend: collecting…</text></svg>';
  const xs = samples.map((s) => s.ts_ms), ys = samples.map((s) => s.value);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (target !== undefined) { lo = Math.min(lo, target); hi = Math.max(hi, target); }
  const pad = Math.max(0.01, (hi - lo) * 0.15); hi += pad; lo -= pad;
  const x0 = xs[0], dx = Math.max(1, xs[xs.length - 1] - x0);
  const X = (t) => p + ((t - x0) / dx) * (w - 2 * p), Y = (v) => h - p - ((v - lo) / (hi - lo)) * (h - 2 * p);
  const d = samples.map((s, i) => (i ? "L" : "M") + X(s.ts_ms).toFixed(1) + " " + Y(s.value).toFixed(1)).join(" ");
  const area = d + " L" + X(xs[xs.length - 1]).toFixed(1) + " " + (h - p) + " L" + X(x0).toFixed(1) + " " + (h - p) + " Z";
  const t = target === undefined ? "" : '<line x1="0" x2="' + w + '" y1="' + Y(target).toFixed(1) + '" y2="' + Y(target).toFixed(1) + '" stroke="#f0b429" stroke-dasharray="4 3" stroke-width="1"/><text x="' + (w - 4) + '" y="' + (Y(target) - 3).toFixed(1) + '" fill="#f0b429" font-size="10" text-anchor="end">target ' + target + "</text>";
  const secs = Math.round(dx / 1000), mins = Math.round(secs / 60);
  const span = secs < 120 ? secs + " s" : mins < 120 ? mins + " min" : Math.round(mins / 60) + " h";
  return '<svg class="spark" data-n="' + samples.length + '" viewBox="0 0 ' + w + " " + h + '"><path d="' + area + '" fill="rgba(47,129,247,.15)"/><path d="' + d + '" fill="none" stroke="#2f81f7" stroke-width="2"/>' + t + '<text x="8" y="14" fill="#8b98a5" font-size="10">live PUE, last ' + span + "</text></svg>";
}
function card(scope, id, name, meta) {
  const m = state.msgs[scope + "/" + id];
  const kpis = m ? m.kpis : [];
  const live = pick(kpis, "pue_live", ["instant"]);
  const inp = (live && live.inputs) || {};
  const kw = (w) => (w === undefined ? "?" : (w / 1000).toFixed(1) + " kW");
  const sub = live && live.ok ? "instantaneous" + (live.category ? " · category " + live.category : "") + " · " + live.quality + " · target " + (live.target ?? "–") : live ? esc(live.reason || "no value") : "waiting for the first KPIs";
  const tiles = TILES.map(([n, label, wins]) => {
    const k = pick(kpis, n, wins);
    return '<div class="tile b-' + st(k) + '"><div class="l">' + label + '</div><div class="v s-' + st(k) + '" data-kpi="' + n + '">' + fmt(k) + '</div><div class="w">' + (k ? k.window + " · " + k.quality : "–") + "</div></div>";
  }).join("");
  const ts = m ? new Date(m.ts).toLocaleTimeString() : "–";
  return '<div class="card" data-scope="' + scope + '" data-id="' + esc(id) + '"><div class="top"><span class="name">' + esc(name) + '</span><span class="meta">' + esc(meta) + ' · updated <span class="ts" data-ts="' + (m ? m.ts : "") + '">' + ts + "</span></span></div>" +
    '<div class="hero"><div><div class="big s-' + st(live) + '" data-kpi="pue_live">' + fmt(live) + '</div><div class="sub">Live PUE: ' + sub + '</div><div class="sub">facility ' + kw(inp.facility_power_w) + " · IT " + kw(inp.it_power_w) + "</div></div>" + spark(state.trends[scope + "/" + id], live && live.target) + "</div>" +
    '<div class="tiles">' + tiles + "</div></div>";
}
function bureauRow(scope, id, name) {
  const m = state.msgs[scope + "/" + id];
  const kpis = m ? m.kpis : [];
  const cell = (n, wins) => { const k = pick(kpis, n, wins); return '<td><span class="pill p-' + st(k) + '"></span>' + fmt(k) + (k ? ' <span class="meta" style="color:#8b98a5;font-size:11px">' + k.window + "</span>" : "") + "</td>"; };
  const q = pick(kpis, "pue", ["1d", "1mo", "1h"]);
  return "<tr><td>" + (scope === "cluster" ? "◇ " : "") + esc(name) + "</td>" + cell("pue_live", ["instant"]) + cell("pue", ["1mo", "1d", "1h"]) + cell("green_share_ratio", ["1mo", "1d"]) + cell("rack_occupancy_ratio", ["instant", "1d", "1mo"]) + cell("compute_ai_pflops", ["instant", "1d"]) + "<td>" + (q ? esc(q.quality) : "–") + "</td></tr>";
}
function render() {
  $("#sites").innerHTML = state.sites.map((s) => card("site", s.id, s.name, s.id + " · " + s.timezone + " · " + s.racks + " racks · " + s.devices + " devices" + (s.devices_down ? " · " + s.devices_down + " down" : ""))).join("") || '<p class="none">no sites</p>';
  $("#clusters").innerHTML = state.clusters.map((c) => card("cluster", c.id, c.name, "cluster of " + c.sites.join(", "))).join("");
  $("#clusters-h").style.display = state.clusters.length ? "" : "none";
  $("#bureau tbody").innerHTML = state.sites.map((s) => bureauRow("site", s.id, s.name)).join("") + state.clusters.map((c) => bureauRow("cluster", c.id, c.name)).join("");
  $("#alerts").innerHTML = state.alerts.length ? "<ul>" + state.alerts.map((a) => '<li class="' + esc(a.severity) + '"><b>' + esc(a.severity) + "</b> · " + esc(a.site) + " · " + esc(a.name) + " — " + esc(a.summary) + "</li>").join("") + "</ul>" : '<p class="none">no firing alerts</p>';
}
function onKpi(msg) {
  const key = msg.scope + "/" + msg.site;
  state.msgs[key] = msg;
  const live = pick(msg.kpis, "pue_live", ["instant"]);
  if (live && live.ok && live.value !== undefined) {
    const t = (state.trends[key] = state.trends[key] || []);
    if (!t.length || msg.ts > t[t.length - 1].ts_ms) t.push({ ts_ms: msg.ts, value: live.value });
    while (t.length && (t[0].ts_ms < msg.ts - 6 * 3600000 || t.length > 4000)) t.shift();
  }
  render();
}
function follow() {
  const es = new EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  es.onopen = () => { $("#live").classList.add("on"); $("#conn").textContent = "live · server-sent events"; };
  es.onerror = () => { $("#live").classList.remove("on"); $("#conn").textContent = "reconnecting…"; };
  es.addEventListener("kpi", (e) => onKpi(JSON.parse(e.data)));
  es.addEventListener("alert", (e) => { state.alerts = JSON.parse(e.data).alerts; render(); });
}
async function startPage() {
  try {
    state.sites = (await api("/api/sites")).sites;
    state.clusters = (await api("/api/clusters")).clusters;
  } catch (e) {
    if (e.auth) return askToken();
    $("#conn").textContent = String(e.message);
    return;
  }
  $("#login").style.display = "none";
  $("#app").style.display = "";
  await Promise.all([...state.sites.map((s) => ["site", "sites", s.id]), ...state.clusters.map((c) => ["cluster", "clusters", c.id])].map(async ([scope, path, id]) => {
    try { state.trends[scope + "/" + id] = (await api("/api/" + path + "/" + encodeURIComponent(id) + "/series?kpi=pue_live&hours=6")).samples; } catch (e) { /* the trend starts from the events */ }
  }));
  render();
  follow();
}
function askToken() {
  $("#app").style.display = "none";
  $("#login").style.display = "";
  $("#login form").onsubmit = (ev) => { ev.preventDefault(); token = $("#tok").value.trim(); sessionStorage.setItem("dcim_token", token); startPage(); };
}
startPage();
`;

export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>dcim-pulse · live</title><style>${CSS}</style></head>
<body><header><span id="live" class="dot"></span><h1>dcim-pulse · live</h1><span id="conn">connecting…</span></header>
<div id="login" style="display:none"><form><b>API token</b><div class="none">The collector's HTTP API needs its bearer token (http.token). It is kept for this tab only.</div><input id="tok" type="password" autocomplete="off"><button type="submit">Open</button></form></div>
<main id="app"><section><h2>Sites</h2><div id="sites" class="cards"></div></section>
<section><h2>Firing alerts</h2><div id="alerts" class="alerts"></div></section>
<section><h2>Bureau view: every site and cluster against its targets</h2><table id="bureau"><thead><tr><th>Site / cluster</th><th>Live PUE (instantaneous)</th><th>PUE</th><th>Green share</th><th>Rack occupancy</th><th>AI compute</th><th>Quality</th></tr></thead><tbody></tbody></table></section>
<section id="clusters-h"><h2>Clusters</h2><div id="clusters" class="cards"></div></section></main>
<script>${JS}</script></body></html>
`;
