import { DEFAULT_LANG, translate, type Lang, type MessageKey } from '../i18n/catalogue.js';
import { ENERGY_SIDES, type EnergyFigure, type EnergySide, type Figure, type MonthlyReport, type RankBy, type ReportRow, type SiteReporting } from './monthly-report.js';

/**
 * The report as one self-contained HTML document (inline CSS and SVG charts: no CDN, prints and
 * mails as a single file). Charts: PUE of the month and trailing 12 months against the target,
 * green share and rack occupancy against theirs, one bar per site or cluster, coloured by status.
 * Its words come from the catalogue the live page uses (zh-CN by default, or English), so the
 * report and the wall name each figure the same way.
 */
const COLOURS: Record<string, string> = { green: '#2f9e5b', amber: '#d99a0b', red: '#d64545', grey: '#8a94a0' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function show(f: Figure, kind: 'pue' | 'ratio' | 'pct' | 'pflops'): string {
  if (f.value === null) return `<span class="na" title="${esc(f.reason ?? '')}">–</span>`;
  const v = kind === 'pue' ? f.value.toFixed(3) : kind === 'ratio' ? `${(f.value * 100).toFixed(1)} %` : kind === 'pct' ? `${f.value.toFixed(1)} %` : `${f.value.toFixed(2)}`;
  return `<span style="color:${COLOURS[f.status]}">${v}</span>`;
}

function meta(f: Figure, t: Translate): string {
  const parts = [f.window !== null ? t(`window.${f.window}` as MessageKey) : '', f.basis ?? '', t(`quality.${f.quality}` as MessageKey), f.category !== null ? t('report.category', { n: f.category }) : ''];
  return `<div class="m">${esc(parts.filter((x) => x).join(' · '))}</div>`;
}

type Translate = (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string;

const kwh = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * One side's energy as the API gave it: a total only when the substitution stayed within the
 * quality bound (the substituted part named), else what was measured, labelled insufficient —
 * never a figure scaled up from part of the month.
 */
function energyLine(side: EnergySide, e: EnergyFigure, t: Translate): string {
  const name = t(`report.energy.${side}`);
  if (e.state === 'total' && e.kwh !== null) {
    const sub = e.substituted_kwh ?? 0;
    return sub > 0 ? t('report.energy_substituted', { side: name, kwh: kwh(e.kwh), substituted: kwh(sub) }) : t('report.energy_total', { side: name, kwh: kwh(e.kwh) });
  }
  if (e.state === 'measured_only' && e.measured_kwh !== null) {
    return t('report.energy_measured_only', { side: name, measured: kwh(e.measured_kwh), coverage: e.coverage === null ? '–' : `${(e.coverage * 100).toFixed(1)} %` });
  }
  return t('report.energy_unavailable', { side: name });
}

/** Horizontal bars, one per row, with the target as a dashed line. */
function barChart(title: string, rows: readonly ReportRow[], pick: (r: ReportRow) => Figure, scale: { min: number; max: number }, fmt: (v: number) => string, t: Translate): string {
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
      svg += `<text x="${label + 6}" y="${y + 13}" class="v na">${esc(t('report.no_value', { quality: t(`quality.${f.quality}` as MessageKey) }))}</text>`;
    }
    if (f.target !== null) svg += `<line x1="${x(f.target).toFixed(1)}" x2="${x(f.target).toFixed(1)}" y1="${y - 2}" y2="${y + barH + 2}" stroke="#222" stroke-dasharray="3 2"/>`;
  });
  return `${svg}</svg>`;
}

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

/** A site's reporting: its status, then the days reported, the largest delay and the missing and late dates. */
function reportingCell(r: SiteReporting | null, t: Translate): string {
  if (!r) return '–';
  const colour = r.status === 'on_time' ? COLOURS.green : r.status === 'late' ? COLOURS.amber : COLOURS.red;
  const lines = [t('report.reporting_detail', { reported: r.days_reported, expected: r.days_expected, delay: r.max_delay_ms === null ? '–' : hours(r.max_delay_ms) })];
  if (r.days_missing.length > 0) lines.push(t('report.reporting_missing_days', { days: r.days_missing.join(', ') }));
  if (r.days_late.length > 0) lines.push(t('report.reporting_late_days', { hours: r.late_after_ms / 3_600_000, days: r.days_late.join(', ') }));
  return `<span style="color:${colour}">${esc(t(`report.reporting.${r.status}`))}</span>${lines.map((l) => `<div class="m">${esc(l)}</div>`).join('')}`;
}

const RANK_FORMAT: Record<RankBy, 'pue' | 'ratio' | 'pflops'> = { pue: 'pue', occupancy: 'ratio', green_share: 'ratio', compute: 'pflops' };

function rankingTable(report: MonthlyReport, t: Translate): string {
  const ranking = report.ranking;
  if (!ranking) return '';
  const kind = RANK_FORMAT[ranking.by];
  const target = (v: number | null) => (v === null ? '–' : kind === 'pue' ? v.toFixed(2) : kind === 'ratio' ? `${(v * 100).toFixed(0)} %` : String(v));
  const rows = ranking.entries
    .map((e) => `<tr><td>${e.rank === null ? esc(t('report.unranked')) : e.rank}</td><td><b>${esc(e.name)}</b><div class="m">${esc(e.id)}</div></td><td>${show(e.figure, kind)}${meta(e.figure, t)}</td><td>${esc(target(e.figure.target))}</td><td>${reportingCell(e.reporting, t)}</td></tr>`)
    .join('\n');
  const head = (['report.col_rank', 'report.col_site', 'report.col_figure', 'report.col_target', 'report.col_reporting'] as const).map((k) => `<th>${esc(t(k))}</th>`).join('');
  return `<h2>${esc(t('report.ranking_title', { by: t(`report.rank_by.${ranking.by}`) }))}</h2>\n<table class="rank"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const COLUMNS = [
  'report.col_site',
  'report.col_racks',
  'report.col_occupancy',
  'report.col_compute',
  'report.col_accel',
  'report.col_pue_month',
  'report.col_pue_12mo',
  'report.col_pue_ytd',
  'report.col_pue_1y',
  'report.col_green',
  'report.col_green_ytd',
  'report.col_green_1y',
  'report.col_energy',
  'report.col_quality',
  'report.col_reporting',
] as const;

export function renderHtml(report: MonthlyReport, lang: Lang = DEFAULT_LANG): string {
  const t: Translate = (key, vars) => translate(lang, key, vars);
  const rows = report.rows;
  const pueMax = Math.max(2, ...rows.flatMap((r) => [r.pue_month.value ?? 0, r.pue_12mo.value ?? 0]));
  const racks = (n: number | null) => (n === null ? '–' : String(n));
  const name = (r: ReportRow) => `<td><b>${esc(r.name)}</b><div class="m">${esc(t(`report.scope.${r.scope}`))} ${esc(r.id)}</div></td>`;
  const body = rows
    .map((r) =>
      r.no_data !== null
        ? `<tr>${name(r)}<td colspan="${COLUMNS.length - 2}" class="na">${esc(t('report.no_data', { reason: r.no_data }))}</td><td>${reportingCell(r.reporting, t)}</td></tr>`
        : `<tr>${name(r)}
<td>${racks(r.racks.designed)} / ${racks(r.racks.installed)} / ${racks(r.racks.on_rack)}<div class="m">${esc(t('report.standard_racks', { installed: racks(r.racks.standard_installed), on_rack: racks(r.racks.standard_on_rack) }))}</div></td>
<td>${show(r.rack_occupancy, 'ratio')}${meta(r.rack_occupancy, t)}</td>
<td>${show(r.compute_ai_pflops, 'pflops')} ${esc(t('report.ai'))}<div class="m">${esc(r.compute_ai_pflops.basis ?? '')}</div>${show(r.compute_general_pflops, 'pflops')} ${esc(t('report.general'))}<div class="m">${esc(r.compute_general_pflops.basis ?? '')} · ${t('report.ai_share', { value: show(r.compute_ai_share, 'ratio') })}</div></td>
<td>${show(r.accelerator_utilisation_pct, 'pct')}${meta(r.accelerator_utilisation_pct, t)}</td>
<td>${show(r.pue_month, 'pue')}${meta(r.pue_month, t)}</td>
<td>${show(r.pue_12mo, 'pue')}${meta(r.pue_12mo, t)}</td>
<td>${show(r.pue_ytd, 'pue')}${meta(r.pue_ytd, t)}</td>
<td>${show(r.pue_1y, 'pue')}${meta(r.pue_1y, t)}</td>
<td>${show(r.green_share, 'ratio')}${meta(r.green_share, t)}<div class="m">${esc(t('report.certificates', { cert: r.green_energy_kwh.certificates ?? '–', trade: r.green_energy_kwh.trade ?? '–' }))}</div></td>
<td>${show(r.green_share_ytd, 'ratio')}${meta(r.green_share_ytd, t)}</td>
<td>${show(r.green_share_1y, 'ratio')}${meta(r.green_share_1y, t)}</td>
<td>${ENERGY_SIDES.map((side) => `<div class="e">${esc(energyLine(side, r.energy[side], t))}</div>`).join('')}</td>
<td>${esc(t(`quality.${r.data_quality.worst}`))}<div class="m">${esc(t('report.min_coverage', { value: r.data_quality.min_coverage === null ? '–' : `${(r.data_quality.min_coverage * 100).toFixed(1)} %` }))}</div></td>
<td>${reportingCell(r.reporting, t)}</td></tr>`,
    )
    .join('\n');
  const generated =
    report.source_kind === 'store' && report.as_of_ms !== null
      ? t('report.generated_store', { time: new Date(report.generated_ms).toISOString(), source: report.source, as_of: new Date(report.as_of_ms).toISOString() })
      : t('report.generated', { time: new Date(report.generated_ms).toISOString(), source: report.source });
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>dcim-pulse · ${esc(t('report.title', { month: report.month }))}</title>
<style>body{font:14px/1.4 system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:#1d242b;margin:32px;max-width:1200px}h1{font-size:22px}h2{font-size:17px}table{border-collapse:collapse;width:100%;margin:16px 0}
th,td{border-bottom:1px solid #dde2e7;padding:6px 8px;text-align:left;vertical-align:top}th{font-size:12px;color:#5b6670;font-weight:600}
.m{color:#6b7785;font-size:11px}.na{color:#8a94a0}.e{white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:24px}svg .t{font-weight:600;font-size:13px}svg .l,svg .v{font-size:11px}</style></head>
<body><h1>${esc(t('report.title', { month: report.month }))}</h1>
<p class="m">${esc(generated)}</p>
${rankingTable(report, t)}
<div class="charts">
${barChart(t('report.chart_pue_month'), rows, (r) => r.pue_month, { min: 1, max: pueMax }, (v) => v.toFixed(3), t)}
${barChart(t('report.chart_pue_12mo'), rows, (r) => r.pue_12mo, { min: 1, max: pueMax }, (v) => v.toFixed(3), t)}
${barChart(t('report.chart_green'), rows, (r) => r.green_share, { min: 0, max: 1 }, (v) => `${(v * 100).toFixed(1)} %`, t)}
${barChart(t('report.chart_occupancy'), rows, (r) => r.rack_occupancy, { min: 0, max: 1 }, (v) => `${(v * 100).toFixed(1)} %`, t)}
</div>
<table><thead><tr>${COLUMNS.map((k) => `<th>${esc(t(k))}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table></body></html>
`;
}
