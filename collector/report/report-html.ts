import type { Figure, MonthlyReport, ReportRow } from './monthly-report.js';

/**
 * The report as one self-contained HTML document (inline CSS and SVG charts: no CDN, prints and
 * mails as a single file). Charts: PUE of the month and trailing 12 months against the target,
 * green share and rack occupancy against theirs, one bar per site or cluster, coloured by status.
 */
const COLOURS: Record<string, string> = { green: '#2f9e5b', amber: '#d99a0b', red: '#d64545', grey: '#8a94a0' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function show(f: Figure, kind: 'pue' | 'ratio' | 'pct' | 'pflops'): string {
  if (f.value === null) return `<span class="na" title="${esc(f.reason ?? '')}">–</span>`;
  const v = kind === 'pue' ? f.value.toFixed(3) : kind === 'ratio' ? `${(f.value * 100).toFixed(1)} %` : kind === 'pct' ? `${f.value.toFixed(1)} %` : `${f.value.toFixed(2)}`;
  return `<span style="color:${COLOURS[f.status]}">${v}</span>`;
}

function meta(f: Figure): string {
  return `<div class="m">${esc([f.window, f.basis, f.quality, f.category !== null ? `cat. ${f.category}` : ''].filter((x) => x).join(' · '))}</div>`;
}

/** Horizontal bars, one per row, with the target as a dashed line. */
function barChart(title: string, rows: readonly ReportRow[], pick: (r: ReportRow) => Figure, scale: { min: number; max: number }, fmt: (v: number) => string): string {
  const W = 560;
  const label = 170;
  const barH = 18;
  const gap = 8;
  const H = 28 + rows.length * (barH + gap);
  const x = (v: number) => label + ((Math.min(Math.max(v, scale.min), scale.max) - scale.min) / (scale.max - scale.min)) * (W - label - 60);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><text x="0" y="14" class="t">${esc(title)}</text>`;
  rows.forEach((r, i) => {
    const f = pick(r);
    const y = 24 + i * (barH + gap);
    svg += `<text x="0" y="${y + 13}" class="l">${esc(r.name.slice(0, 26))}</text>`;
    svg += `<rect x="${label}" y="${y}" width="${W - label - 60}" height="${barH}" fill="#eef1f4"/>`;
    if (f.value !== null) {
      svg += `<rect x="${label}" y="${y}" width="${(x(f.value) - label).toFixed(1)}" height="${barH}" fill="${COLOURS[f.status]}"/>`;
      svg += `<text x="${(x(f.value) + 4).toFixed(1)}" y="${y + 13}" class="v">${esc(fmt(f.value))}</text>`;
    } else {
      svg += `<text x="${label + 6}" y="${y + 13}" class="v na">no value (${esc(f.quality)})</text>`;
    }
    if (f.target !== null) svg += `<line x1="${x(f.target).toFixed(1)}" x2="${x(f.target).toFixed(1)}" y1="${y - 2}" y2="${y + barH + 2}" stroke="#222" stroke-dasharray="3 2"/>`;
  });
  return `${svg}</svg>`;
}

export function renderHtml(report: MonthlyReport): string {
  const rows = report.rows;
  const pueMax = Math.max(2, ...rows.flatMap((r) => [r.pue_month.value ?? 0, r.pue_12mo.value ?? 0]));
  const racks = (n: number | null) => (n === null ? '–' : String(n));
  const body = rows
    .map(
      (r) => `<tr><td><b>${esc(r.name)}</b><div class="m">${esc(r.scope)} ${esc(r.id)}</div></td>
<td>${racks(r.racks.designed)} / ${racks(r.racks.installed)} / ${racks(r.racks.on_rack)}<div class="m">standard 2.5 kW: ${racks(r.racks.standard_installed)} installed / ${racks(r.racks.standard_on_rack)} on-rack</div></td>
<td>${show(r.rack_occupancy, 'ratio')}${meta(r.rack_occupancy)}</td>
<td>${show(r.compute_ai_pflops, 'pflops')} AI<div class="m">${esc(r.compute_ai_pflops.basis ?? '')}</div>${show(r.compute_general_pflops, 'pflops')} general<div class="m">${esc(r.compute_general_pflops.basis ?? '')} · AI share ${show(r.compute_ai_share, 'ratio')}</div></td>
<td>${show(r.accelerator_utilisation_pct, 'pct')}${meta(r.accelerator_utilisation_pct)}</td>
<td>${show(r.pue_month, 'pue')}${meta(r.pue_month)}</td>
<td>${show(r.pue_12mo, 'pue')}${meta(r.pue_12mo)}</td>
<td>${show(r.green_share, 'ratio')}${meta(r.green_share)}<div class="m">certificates ${r.green_energy_kwh.certificates ?? '–'} kWh · trade ${r.green_energy_kwh.trade ?? '–'} kWh</div></td>
<td>${esc(r.data_quality.worst)}<div class="m">min coverage ${r.data_quality.min_coverage === null ? '–' : `${(r.data_quality.min_coverage * 100).toFixed(1)} %`}</div></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dcim-pulse monthly report ${esc(report.month)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;color:#1d242b;margin:32px;max-width:1200px}h1{font-size:22px}table{border-collapse:collapse;width:100%;margin:16px 0}
th,td{border-bottom:1px solid #dde2e7;padding:6px 8px;text-align:left;vertical-align:top}th{font-size:12px;color:#5b6670;font-weight:600}
.m{color:#6b7785;font-size:11px}.na{color:#8a94a0}.charts{display:flex;flex-wrap:wrap;gap:24px}svg .t{font-weight:600;font-size:13px}svg .l,svg .v{font-size:11px}</style></head>
<body><h1>Monthly report ${esc(report.month)}</h1>
<p class="m">Generated ${esc(new Date(report.generated_ms).toISOString())} from ${esc(report.source)}. Month figures are the API's 1mo window; compute and accelerator utilisation are instantaneous at generation time. Status colours: target met (green), near (amber), missed (red), no verdict (grey).</p>
<div class="charts">
${barChart('PUE, month (target dashed)', rows, (r) => r.pue_month, { min: 1, max: pueMax }, (v) => v.toFixed(3))}
${barChart('PUE, trailing 12 months', rows, (r) => r.pue_12mo, { min: 1, max: pueMax }, (v) => v.toFixed(3))}
${barChart('Green share, month', rows, (r) => r.green_share, { min: 0, max: 1 }, (v) => `${(v * 100).toFixed(1)} %`)}
${barChart('Rack occupancy, month', rows, (r) => r.rack_occupancy, { min: 0, max: 1 }, (v) => `${(v * 100).toFixed(1)} %`)}
</div>
<table><thead><tr><th>Site</th><th>Racks designed / installed / on-rack</th><th>Rack occupancy</th><th>Compute (PFLOPS)</th><th>Accelerator utilisation</th><th>PUE month</th><th>PUE 12 months</th><th>Green share</th><th>Data quality</th></tr></thead>
<tbody>
${body}
</tbody></table></body></html>
`;
}
