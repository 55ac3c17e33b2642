import { DEFAULT_LANG, translate, type Lang, type MessageKey } from '../i18n/catalogue.js';
import { rankFigure, rowFigure, type Figure, type MonthlyReport, type ReportRow, type SiteReporting } from './monthly-report.js';
import { figureLabel, REPORT_LAYOUT, reportNumber, type ReportLayout } from './report-layout.js';
import type { KpiFormat } from '../kpi/registry/index.js';

/**
 * The report as plain text for a terminal or a mail body, in the catalogue's words (zh-CN by
 * default, or English): the ranking when there is one, then one block per site or cluster, each
 * figure with its window, quality, coverage and target status on one line. Values are rounded
 * for reading as in the html report; the csv and json keep them unrounded.
 */
type Translate = (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string;

function value(f: Figure, format: KpiFormat): string {
  return f.value === null ? '–' : reportNumber(f.value, format);
}

function line(label: string, f: Figure, format: KpiFormat, t: Translate): string {
  const parts = [f.window !== null ? t(`window.${f.window}` as MessageKey) : '', t(`quality.${f.quality}` as MessageKey), f.coverage !== null ? `${(f.coverage * 100).toFixed(1)} %` : '', t(`status.${f.status}` as MessageKey)];
  return `  ${label}: ${value(f, format)}  (${parts.filter((p) => p).join(' · ')})`;
}

function reporting(r: SiteReporting, t: Translate): string[] {
  const out = [`  ${t('report.col_reporting')}: ${t(`report.reporting.${r.status}`)} · ${t('report.reporting_detail', { reported: r.days_reported, expected: r.days_expected, delay: r.max_delay_ms === null ? '–' : `${(r.max_delay_ms / 3_600_000).toFixed(1)} h` })}`];
  if (r.days_missing.length > 0) out.push(`    ${t('report.reporting_missing_days', { days: r.days_missing.join(', ') })}`);
  if (r.days_late.length > 0) out.push(`    ${t('report.reporting_late_days', { hours: r.late_after_ms / 3_600_000, days: r.days_late.join(', ') })}`);
  return out;
}

function block(r: ReportRow, t: Translate, lang: Lang, layout: ReportLayout): string[] {
  const out = [`${t(`report.scope.${r.scope}`)} ${r.id} · ${r.name}`];
  if (r.no_data !== null) out.push(`  ${t('report.no_data', { reason: r.no_data })}`);
  else {
    for (const f of layout.text) out.push(line(figureLabel(f, lang), rowFigure(r, f.field), f.format, t));
  }
  if (r.reporting) out.push(...reporting(r.reporting, t));
  return out;
}

/** `layout`: the KPI registry's declarations unless a test gives its own (as it gave buildMonthlyReport). */
export function renderText(report: MonthlyReport, lang: Lang = DEFAULT_LANG, layout: ReportLayout = REPORT_LAYOUT): string {
  const t: Translate = (key, vars) => translate(lang, key, vars);
  const generated =
    report.source_kind === 'store' && report.as_of_ms !== null
      ? t('report.generated_store', { time: new Date(report.generated_ms).toISOString(), source: report.source, as_of: new Date(report.as_of_ms).toISOString() })
      : t('report.generated', { time: new Date(report.generated_ms).toISOString(), source: report.source });
  const out = [t('report.title', { month: report.month }), generated, ''];
  if (report.ranking) {
    const format = rankFigure(report.ranking.by, layout).format;
    out.push(t('report.ranking_title', { by: t(`report.rank_by.${report.ranking.by}` as MessageKey) }));
    for (const e of report.ranking.entries) {
      const status = e.reporting ? ` · ${t(`report.reporting.${e.reporting.status}`)}` : '';
      out.push(`  ${e.rank === null ? t('report.unranked') : `${e.rank}.`} ${e.id} ${e.name}: ${value(e.figure, format)} (${t(`quality.${e.figure.quality}` as MessageKey)} · ${t(`status.${e.figure.status}` as MessageKey)})${status}`);
    }
    out.push('');
  }
  for (const r of report.rows) out.push(...block(r, t, lang, layout), '');
  return out.join('\n');
}
