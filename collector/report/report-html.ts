import { DEFAULT_LANG, translate, type Lang, type MessageKey } from '../i18n/catalogue.js';
import type { KpiFormat } from '../kpi/registry/index.js';
import type { CuratedCell } from '../kpi/registry/kpi-module.js';
import { ENERGY_SIDES, rankFigure, rowFigure, type EnergyFigure, type EnergySide, type Figure, type MonthlyReport, type ReportRow, type SiteReporting } from './monthly-report.js';
import { figureLabel, REPORT_LAYOUT, reportNumber, type LaidFigure, type ReportLayout } from './report-layout.js';

/**
 * The report as one self-contained HTML document (inline CSS and SVG charts: no CDN, prints and
 * mails as a single file). Charts: PUE of the month and trailing 12 months against the target,
 * green share and rack occupancy against theirs, one bar per site or cluster, coloured by status.
 * Its words come from the catalogue the live page uses (zh-CN by default, or English), so the
 * report and the wall name each figure the same way.
 */
const COLOURS: Record<string, string> = { green: '#2f9e5b', amber: '#d99a0b', red: '#d64545', grey: '#8a94a0' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function show(f: Figure, format: KpiFormat): string {
  if (f.value === null) return `<span class="na" title="${esc(f.reason ?? '')}">–</span>`;
  return `<span style="color:${COLOURS[f.status]}">${reportNumber(f.value, format)}</span>`;
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

function rankingTable(report: MonthlyReport, t: Translate, layout: ReportLayout): string {
  const ranking = report.ranking;
  if (!ranking) return '';
  const format = rankFigure(ranking.by, layout).format;
  // A target is a round figure: one decimal fewer than the figures (1.20, 70 %).
  const target = (v: number | null) => (v === null ? '–' : reportNumber(v, { ...format, digits: Math.max(0, format.digits - 1) }));
  const rows = ranking.entries
    .map((e) => `<tr><td>${e.rank === null ? esc(t('report.unranked')) : e.rank}</td><td><b>${esc(e.name)}</b><div class="m">${esc(e.id)}</div></td><td>${show(e.figure, format)}${meta(e.figure, t)}</td><td>${esc(target(e.figure.target))}</td><td>${reportingCell(e.reporting, t)}</td></tr>`)
    .join('\n');
  const head = (['report.col_rank', 'report.col_site', 'report.col_figure', 'report.col_target', 'report.col_reporting'] as const).map((k) => `<th>${esc(t(k))}</th>`).join('');
  return `<h2>${esc(t('report.ranking_title', { by: t(`report.rank_by.${ranking.by}` as MessageKey) }))}</h2>\n<table class="rank"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/**
 * Cells that are a layout of their own rather than one figure: the compute column joins the AI
 * compute, the general compute and the AI share of the compute-scale modules (their fields, as
 * those modules declare them); the month's green share names the certificates and trades declared.
 */
const CELLS: Record<CuratedCell, { head: MessageKey; cell: (r: ReportRow, f: LaidFigure, t: Translate) => string }> = {
  compute: {
    head: 'report.col_compute',
    cell: (r, f, t) => {
      const ai = rowFigure(r, f.field);
      const general = rowFigure(r, 'compute_general_pflops');
      const share = rowFigure(r, 'compute_ai_share');
      return `${show(ai, f.format)} ${esc(t('report.ai'))}<div class="m">${esc(ai.basis ?? '')}</div>${show(general, f.format)} ${esc(t('report.general'))}<div class="m">${esc(general.basis ?? '')} · ${t('report.ai_share', { value: show(share, RATIO) })}</div>`;
    },
  },
  green_declared: {
    head: 'report.col_green',
    cell: (r, f, t) => `${plainCell(rowFigure(r, f.field), f, t)}<div class="m">${esc(t('report.certificates', { cert: r.green_energy_kwh.certificates ?? '–', trade: r.green_energy_kwh.trade ?? '–' }))}</div>`,
  },
};
const RATIO: KpiFormat = { scale: 100, digits: 1, unit: ' %' };

const plainCell = (x: Figure, f: LaidFigure, t: Translate) => `${show(x, f.format)}${meta(x, t)}`;


function figureCell(r: ReportRow, f: LaidFigure, t: Translate): string {
  const curated = f.html?.cell;
  return curated ? CELLS[curated].cell(r, f, t) : plainCell(rowFigure(r, f.field), f, t);
}

/** `layout`: the KPI registry's declarations unless a test gives its own. */
export function renderHtml(report: MonthlyReport, lang: Lang = DEFAULT_LANG, layout: ReportLayout = REPORT_LAYOUT): string {
  // The table's figure columns: each figure that declares one, in the report's column order.
  const FIGURE_COLUMNS = layout.columns.filter((f) => f.html);
  const CHARTS = layout.csv.filter((f) => f.chart);
  const t: Translate = (key, vars) => translate(lang, key, vars);
  const rows = report.rows;
  const columns = [t('report.col_site'), t('report.col_racks'), ...FIGURE_COLUMNS.map((f) => (f.html?.cell ? t(CELLS[f.html.cell].head) : figureLabel(f, lang))), ...(['report.col_energy', 'report.col_quality', 'report.col_reporting'] as const).map((k) => t(k))];
  // Charts without a declared end (PUE) share one axis up to the largest of their values, at least 2.
  const open = CHARTS.filter((f) => f.chart!.to === undefined);
  const openMax = Math.max(2, ...rows.flatMap((r) => open.map((f) => rowFigure(r, f.field).value ?? 0)));
  const racks = (n: number | null) => (n === null ? '–' : String(n));
  const name = (r: ReportRow) => `<td><b>${esc(r.name)}</b><div class="m">${esc(t(`report.scope.${r.scope}`))} ${esc(r.id)}</div></td>`;
  const body = rows
    .map((r) =>
      r.no_data !== null
        ? `<tr>${name(r)}<td colspan="${columns.length - 2}" class="na">${esc(t('report.no_data', { reason: r.no_data }))}</td><td>${reportingCell(r.reporting, t)}</td></tr>`
        : `<tr>${name(r)}
<td>${racks(r.racks.designed)} / ${racks(r.racks.installed)} / ${racks(r.racks.on_rack)}<div class="m">${esc(t('report.standard_racks', { installed: racks(r.racks.standard_installed), on_rack: racks(r.racks.standard_on_rack) }))}</div></td>
${FIGURE_COLUMNS.map((f) => `<td>${figureCell(r, f, t)}</td>\n`).join('')}<td>${ENERGY_SIDES.map((side) => `<div class="e">${esc(energyLine(side, r.energy[side], t))}</div>`).join('')}</td>
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
${rankingTable(report, t, layout)}
<div class="charts">
${CHARTS.map((f) => `${barChart(t(f.chart!.title), rows, (r) => rowFigure(r, f.field), { min: f.chart!.from, max: f.chart!.to ?? openMax }, (v) => reportNumber(v, f.format), t)}\n`).join('')}</div>
<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table></body></html>
`;
}
