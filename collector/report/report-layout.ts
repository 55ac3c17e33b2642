import { translate, type Lang } from '../i18n/catalogue.js';
import { KPI_REGISTRY, type KpiFormat, type KpiModule } from '../kpi/registry/index.js';
import type { KpiTarget, ReportFigure } from '../kpi/registry/kpi-module.js';

/**
 * What the monthly report shows, read from the KPI registry: every figure a module declares in
 * `views.report`, with the module's format and target. The report's code names no KPI: a module
 * that declares report figures gets its fields in the json, its columns in the csv and, as it
 * declares, lines of the text report, columns and charts of the html report.
 */
export type TargetKey = KpiTarget['key'];

export interface LaidFigure extends ReportFigure {
  readonly kpi: string;
  readonly format: KpiFormat;
  readonly target: KpiTarget | undefined;
}

export interface ReportLayout {
  /** In the registry's order: the csv's figure columns. */
  readonly csv: readonly LaidFigure[];
  /** In the report's column order: the json row's figure fields and the html table. */
  readonly columns: readonly LaidFigure[];
  /** The text report's lines, in the registry's order. */
  readonly text: readonly LaidFigure[];
  /** `--by` keys, each with the figure it ranks by. */
  readonly rank: ReadonlyMap<string, LaidFigure>;
  /** The KPI judged against each target of the plan. */
  readonly targets: ReadonlyMap<TargetKey, string>;
}

export function reportLayout(modules: readonly KpiModule[]): ReportLayout {
  const csv: LaidFigure[] = [];
  const text: LaidFigure[] = [];
  const ranks: { by: string; at: number; f: LaidFigure }[] = [];
  const placed: { column: number; figures: LaidFigure[] }[] = [];
  const fields = new Set<string>();
  for (const m of modules) {
    const view = m.views?.report;
    if (!view) continue;
    const laid = view.figures.map((f) => ({ ...f, kpi: m.name, format: m.display.format, target: m.target }));
    for (const f of laid) {
      // Two modules writing one field would overwrite each other's figure in every row.
      if (fields.has(f.field)) throw new Error(`KPI registry: ${m.name} declares report field ${f.field}, which another KPI has`);
      fields.add(f.field);
    }
    csv.push(...laid);
    placed.push({ column: view.column, figures: laid });
    for (const field of view.text ?? []) {
      const f = laid.find((x) => x.field === field);
      if (!f) throw new Error(`KPI registry: ${m.name} puts ${field} in the text report but declares no such figure`);
      text.push(f);
    }
    if (view.rank) ranks.push({ ...view.rank, f: laid[0]! });
  }
  placed.sort((a, b) => a.column - b.column);
  ranks.sort((a, b) => a.at - b.at);
  const targets = new Map(modules.flatMap((m) => (m.target ? [[m.target.key, m.name] as const] : [])));
  return { csv, columns: placed.flatMap((p) => p.figures), text, rank: new Map(ranks.map((r) => [r.by, r.f])), targets };
}

export const REPORT_LAYOUT: ReportLayout = reportLayout(KPI_REGISTRY);

/** A figure's words: each key's text (its placeholders left empty), joined by a space; else the KPI's name and the window's. */
export function figureLabel(f: LaidFigure, lang: Lang): string {
  if (!f.label) return `${translate(lang, `kpi.${f.kpi}`)} · ${translate(lang, `window.${f.window}`)}`;
  return f.label.map((k) => translate(lang, k, { value: '' }).trim()).join(' ');
}

/**
 * A figure's number as the report writes it: the module's format, with its unit only when the unit
 * is a percentage (the report names the other units in its column heads: PUE, PFLOPS).
 */
export function reportNumber(v: number, format: KpiFormat): string {
  const n = (v * format.scale).toFixed(format.digits);
  return format.unit.trim() === '%' ? `${n}${format.unit}` : n;
}
