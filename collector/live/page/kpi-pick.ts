import type { KpiValue } from '../../../contract/messages.js';

/**
 * The figure a tile shows: the first of `wins` (in preference order) with a value, else the first
 * present without one (so the tile can say why), among the figures of `name` whose basis `basis`
 * accepts (the bureau keeps the mean of sites out of its headline figures).
 */
export function pickKpi(kpis: readonly KpiValue[] | undefined, name: string, wins: readonly string[], basis: (b: string) => boolean = () => true): KpiValue | undefined {
  const all = (kpis ?? []).filter((k) => k.kpi === name && basis(k.basis));
  for (const w of wins) {
    const k = all.find((x) => x.window === w && x.ok && typeof x.value === 'number');
    if (k) return k;
  }
  for (const w of wins) {
    const k = all.find((x) => x.window === w);
    if (k) return k;
  }
  return undefined;
}
