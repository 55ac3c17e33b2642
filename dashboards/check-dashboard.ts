import { KPI_CATALOGUE } from '../collector/kpi/registry/index.js';
import type { KpiCatalogue } from '../contract/kpi-catalogue.js';
import type { StorageSchema } from '../contract/storage-schema.js';
import { expandMacros, variablesIn } from './grafana/macros.js';
import { checkInfluxQl } from './influxql/check.js';

/**
 * Every InfluxQL query of a dashboard JSON (panel targets, annotation queries, variable queries),
 * and the catalogue check of each one with every option of the custom variables it uses, so a
 * window offered in a drop-down that a KPI does not have is caught too. Works on the parsed
 * JSON, so it checks the committed files, not only what the generator meant to write.
 */

export interface DashboardQuery {
  dashboard: string;
  /** `panel "Live PUE" A`, `annotation "Firing alerts"`, `variable site`. */
  where: string;
  panel?: string;
  refId?: string;
  query: string;
}

interface JsonTarget {
  refId?: string;
  query?: string;
}
interface JsonPanel {
  title?: string;
  type?: string;
  targets?: JsonTarget[];
  panels?: JsonPanel[];
}
interface JsonVariable {
  type?: string;
  name?: string;
  query?: unknown;
  options?: { value?: string }[];
}
export interface DashboardJson {
  uid?: string;
  title?: string;
  panels?: JsonPanel[];
  annotations?: { list?: { name?: string; target?: { query?: string } }[] };
  templating?: { list?: JsonVariable[] };
}

export function dashboardQueries(d: DashboardJson): DashboardQuery[] {
  const name = d.uid ?? d.title ?? 'dashboard';
  const out: DashboardQuery[] = [];
  const walk = (panels: JsonPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (typeof t.query === 'string') out.push({ dashboard: name, where: `panel "${p.title}" ${t.refId ?? ''}`.trim(), panel: p.title ?? '', refId: t.refId ?? '', query: t.query });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels ?? []);
  for (const a of d.annotations?.list ?? []) if (typeof a.target?.query === 'string') out.push({ dashboard: name, where: `annotation "${a.name}"`, query: a.target.query });
  for (const v of d.templating?.list ?? []) if (v.type === 'query' && typeof v.query === 'string') out.push({ dashboard: name, where: `variable ${v.name}`, query: v.query });
  return out;
}

/** Placeholder for a query variable's value: any id is a valid value of an open tag. */
const QUERY_VARIABLE_VALUE = 'x';
const CHECK_RANGE = { from_ms: 0, to_ms: 3_600_000, interval: '1m' };

/** Every combination of the custom-variable options a query uses (query variables get a placeholder). */
export function variableCombinations(query: string, variables: readonly JsonVariable[]): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const name of variablesIn(query)) {
    const v = variables.find((x) => x.name === name);
    const values = v?.type === 'custom' ? (v.options ?? []).map((o) => o.value ?? '') : v ? [QUERY_VARIABLE_VALUE] : [];
    if (values.length === 0) continue; // left unexpanded: expandMacros reports the unknown variable
    combos = combos.flatMap((c) => values.map((value) => ({ ...c, [name]: value })));
  }
  return combos;
}

/** `kpis`: the KPI catalogue a query's pinned KPI is checked against (the registry's unless a test gives its own). */
export function checkDashboard(d: DashboardJson, schema: StorageSchema, kpis: KpiCatalogue = KPI_CATALOGUE): string[] {
  const variables = d.templating?.list ?? [];
  const problems: string[] = [];
  for (const q of dashboardQueries(d)) {
    for (const vars of variableCombinations(q.query, variables)) {
      let expanded: string;
      try {
        expanded = expandMacros(q.query, { ...CHECK_RANGE, vars });
      } catch (e) {
        problems.push(`${q.dashboard}: ${q.where}: ${(e as Error).message}`);
        break;
      }
      const given = Object.entries(vars)
        .filter(([, v]) => v !== QUERY_VARIABLE_VALUE)
        .map(([k, v]) => `$${k}=${v}`)
        .join(' ');
      for (const p of checkInfluxQl(expanded, schema, kpis)) problems.push(`${q.dashboard}: ${q.where}${given ? ` (${given})` : ''}: ${p}`);
    }
  }
  return [...new Set(problems)];
}
