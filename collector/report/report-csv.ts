import { ENERGY_SIDES, rowFigure, type EnergyFigure, type MonthlyReport, type RankEntry, type SiteReporting } from './monthly-report.js';
import { REPORT_LAYOUT, type ReportLayout } from './report-layout.js';

/**
 * The report as CSV (RFC 4180: comma, CRLF, quotes doubled), one row per site or cluster. Each
 * figure gives its value and, beside it, what a reader needs to trust it: window, basis, quality,
 * status, coverage (and PUE its category). Numbers are as evaluated, unrounded; empty when there is none.
 * Energy per side: `<side>_kwh` (measured + substituted, or the word `insufficient` when more of
 * the month is uncovered than substitution may fill), `<side>_measured_kwh`,
 * `<side>_substituted_kwh` and `<side>_coverage` — a partial measurement is never in a total's column.
 * Column names are machine names in either language (scripts and spreadsheets key on them); the
 * words a reader sees are in the html report.
 */
const categories = (layout: ReportLayout) => layout.csv.filter((f) => f.category);

function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function energyCells(e: EnergyFigure): (string | number | null)[] {
  return [e.state === 'measured_only' ? 'insufficient' : e.kwh, e.measured_kwh, e.substituted_kwh, e.coverage];
}

/** `layout`: the KPI registry's declarations unless a test gives its own. */
export function reportColumns(layout: ReportLayout = REPORT_LAYOUT): string[] {
  const cols = ['month', 'scope', 'id', 'name', 'racks_designed', 'racks_installed', 'racks_on_rack', 'standard_racks_installed', 'standard_racks_on_rack'];
  for (const { field, csv } of layout.csv) {
    const name = csv ?? field;
    cols.push(name, `${name}_window`, `${name}_basis`, `${name}_quality`, `${name}_status`, `${name}_coverage`);
  }
  for (const { field } of categories(layout)) cols.push(`${field}_category`);
  for (const side of ENERGY_SIDES) cols.push(`${side}_kwh`, `${side}_measured_kwh`, `${side}_substituted_kwh`, `${side}_coverage`);
  cols.push('green_certificate_kwh', 'green_trade_kwh', 'data_quality', 'data_min_coverage', 'data_insufficient', 'no_data', ...REPORTING_COLUMNS);
  return cols;
}

const REPORTING_COLUMNS = ['reporting', 'days_expected', 'days_reported', 'days_missing', 'days_late', 'max_delay_h'];

/** Reporting cells: status, day counts, the missing and late local dates (space-separated), the largest delay in hours. */
function reportingCells(r: SiteReporting | null): (string | number | null)[] {
  if (!r) return [null, null, null, null, null, null];
  return [r.status, r.days_expected, r.days_reported, r.days_missing.join(' '), r.days_late.join(' '), r.max_delay_ms === null ? null : Math.round((r.max_delay_ms / 3_600_000) * 100) / 100];
}

export function rankingColumns(): string[] {
  return ['month', 'rank', 'id', 'name', 'by', 'value', 'window', 'basis', 'quality', 'coverage', 'status', 'target', ...REPORTING_COLUMNS];
}

/** The ranking: one row per site, best first; a site without a value has an empty rank. */
export function renderRankingCsv(report: MonthlyReport): string {
  const ranking = report.ranking;
  const lines = [rankingColumns().map(cell).join(',')];
  for (const e of ranking?.entries ?? ([] as RankEntry[])) {
    const f = e.figure;
    lines.push([report.month, e.rank, e.id, e.name, ranking!.by, f.value, f.window, f.basis, f.quality, f.coverage, f.status, f.target, ...reportingCells(e.reporting)].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function renderCsv(report: MonthlyReport, layout: ReportLayout = REPORT_LAYOUT): string {
  const lines = [reportColumns(layout).map(cell).join(',')];
  for (const r of report.rows) {
    const row: (string | number | null)[] = [report.month, r.scope, r.id, r.name, r.racks.designed, r.racks.installed, r.racks.on_rack, r.racks.standard_installed, r.racks.standard_on_rack];
    for (const { field } of layout.csv) {
      const f = rowFigure(r, field);
      row.push(f.value, f.window, f.basis, f.quality, f.status, f.coverage);
    }
    for (const { field } of categories(layout)) row.push(rowFigure(r, field).category);
    for (const side of ENERGY_SIDES) row.push(...energyCells(r.energy[side]));
    const g = r.green_energy_kwh;
    row.push(g.certificates, g.trade, r.data_quality.worst, r.data_quality.min_coverage, r.data_quality.insufficient.join(' '), r.no_data, ...reportingCells(r.reporting));
    lines.push(row.map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
