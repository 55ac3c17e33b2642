/**
 * `{placeholder}` text in summaries, descriptions and runbooks. The names are a closed list,
 * checked when the rules are loaded, so a typo is a config error rather than a blank in a page
 * at 3 a.m. A placeholder without a value for an alert renders as `-`.
 */
export const TEMPLATE_VARS = [
  'alertname',
  'severity',
  'site',
  'hall',
  'rack',
  'rack_group',
  'device',
  'agent',
  'point',
  'kpi',
  'window',
  /** The value that breaches (the extreme of the group for scoped rules), formatted. */
  'value',
  /** The limit crossed, and the band as text (`18–27`, `> 27`). */
  'limit',
  'band',
  'target',
  'quality',
  /** Human place: `rack group pod-a (hall h1)`, `rack r05`, `device th-r05`, `site demo`. */
  'where',
  /** Members outside the limit, hottest first: `r03 33.1, r04 32.8`. */
  'members',
  /** Rate of change: the change observed and the window. */
  'delta',
  'over',
  /** Staleness: how long without data, and the limit. */
  'age',
  'after',
  /** Device status: its state, error code and since when (ISO time). */
  'state',
  'code',
  'since',
] as const;
export type TemplateVar = (typeof TEMPLATE_VARS)[number];
export type TemplateValues = Partial<Record<TemplateVar, string>>;

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Unknown placeholder names in `text` (empty when all are known). */
export function unknownPlaceholders(text: string): string[] {
  const known = new Set<string>(TEMPLATE_VARS);
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string).filter((name) => !known.has(name));
}

export function renderTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (_, name: string) => values[name as TemplateVar] ?? '-');
}

/** Numbers in alert text: at most 3 significant decimals, no float noise (1.2000000000000002). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}
