import type { KpiWindow } from '../../contract/messages.js';

/**
 * InfluxQL text from small typed pieces. Every identifier is double-quoted and every literal
 * single-quoted here, once, so a dashboard file never writes quotes by hand. Grafana macros
 * (`$timeFilter`, `$__interval`) and variables stay in the text; Grafana substitutes them.
 */

export const ident = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const str = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const escapeRegex = (v: string) => v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Grafana's time range of the panel. */
export const TIME_FILTER = '$timeFilter';
/**
 * For the newest value of a long window whatever the dashboard range: KPI points are stamped at
 * their window end (a calendar year's on 1 January), and a device's status at the moment it began.
 * 800 days covers the previous calendar year from any day of this one.
 */
export const LATEST_RANGE = 'time >= now() - 800d';

export const eq = (tag: string, value: string): string => `${ident(tag)} = ${str(value)}`;
export const oneOf = (tag: string, values: readonly string[]): string =>
  values.length === 1 ? eq(tag, values[0]!) : `${ident(tag)} =~ /^(${values.map(escapeRegex).join('|')})$/`;
/** A tag against a (possibly multi-value) Grafana variable: Grafana writes `(a|b)` for several values. */
export const matchesVar = (tag: string, variable: string): string => `${ident(tag)} =~ /^$${variable}$/`;
/** A tag against a single-value variable, e.g. a window chosen from a custom list. */
export const eqVar = (tag: string, variable: string): string => `${ident(tag)} = '$${variable}'`;
export const anyOfConditions = (conditions: readonly string[][]): string => `(${conditions.map((c) => `(${c.join(' AND ')})`).join(' OR ')})`;

/** `fn("field") AS "alias"`, or the bare field. */
export const col = (field: string, alias?: string, fn?: string): string => `${fn ? `${fn}(${ident(field)})` : ident(field)}${alias !== undefined ? ` AS ${ident(alias)}` : ''}`;
export const mean = (field: string, alias?: string) => col(field, alias, 'mean');
export const last = (field: string, alias?: string) => col(field, alias, 'last');
export const max = (field: string, alias?: string) => col(field, alias, 'max');
export const sum = (field: string, alias?: string) => col(field, alias, 'sum');
/** A counter's increase per minute (counters restart at 0 with the agent: negative steps are dropped). */
export const perMinute = (field: string, alias: string) => `non_negative_derivative(max(${ident(field)}), 1m) AS ${ident(alias)}`;

export interface SelectSpec {
  columns: readonly string[];
  from: string | readonly string[] | SelectSpec;
  where?: readonly string[];
  /** GROUP BY time($__interval) first, then these tags. */
  byTime?: boolean;
  groupBy?: readonly string[];
  fill?: 'none' | 'null' | 'previous';
  /** The newest row of each series: ORDER BY time DESC LIMIT 1. */
  newest?: boolean;
}

export function select(s: SelectSpec): string {
  const from = typeof s.from === 'string' ? ident(s.from) : Array.isArray(s.from) ? s.from.map(ident).join(', ') : `(${select(s.from as SelectSpec)})`;
  const parts = [`SELECT ${s.columns.join(', ')} FROM ${from}`];
  if (s.where && s.where.length > 0) parts.push(`WHERE ${s.where.join(' AND ')}`);
  const dims = [...(s.byTime ? ['time($__interval)'] : []), ...(s.groupBy ?? []).map(ident)];
  if (dims.length > 0) parts.push(`GROUP BY ${dims.join(', ')}`);
  if (s.fill) parts.push(`fill(${s.fill})`);
  if (s.newest) parts.push('ORDER BY time DESC LIMIT 1');
  return parts.join(' ');
}

/**
 * Conditions selecting one KPI on `kpi`. `windowVar` names a custom variable holding the window
 * instead. A window or basis the KPI does not have (its module's spec in the registry) is a
 * problem the query check (./check.ts) reports, so `npm run dashboards` refuses to write it.
 */
export function kpiWhere(
  kpi: string,
  o: { windows?: readonly KpiWindow[]; windowVar?: string; basis?: readonly string[]; siteVar?: string },
): string[] {
  const where = [eq('kpi', kpi)];
  if (o.siteVar) where.unshift(matchesVar('site', o.siteVar));
  if (o.windows) where.push(oneOf('window', o.windows));
  if (o.windowVar) where.push(eqVar('window', o.windowVar));
  if (o.basis) where.push(oneOf('basis', o.basis));
  return where;
}
