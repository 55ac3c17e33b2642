import type { PrometheusProfile } from '../../contract/index.js';

/** What the schema cannot say about a Prometheus profile's points one at a time. */
export function checkPrometheusProfile(p: PrometheusProfile): string[] {
  const problems: string[] = [];
  const check = (where: string, pt: PrometheusProfile['points'][number], indexLabel?: string) => {
    if (pt.label !== undefined && (pt.unit !== undefined || pt.scale !== 1 || pt.offset !== 0 || pt.counter_max !== undefined)) {
      problems.push(`${where}: a label point is text: no unit, scale, offset or counter_max`);
    }
    if (indexLabel !== undefined && pt.labels && Object.prototype.hasOwnProperty.call(pt.labels, indexLabel)) {
      problems.push(`${where}: labels pins ${indexLabel}, the table's index label`);
    }
    if (indexLabel !== undefined && pt.label === indexLabel) problems.push(`${where}: label ${indexLabel} is the row index itself`);
  };
  p.points.forEach((pt, i) => check(`points[${i}]`, pt));
  p.tables.forEach((t, ti) => t.columns.forEach((pt, i) => check(`tables[${ti}].columns[${i}]`, pt, t.index_label)));
  const names = new Set<string>();
  for (const pt of [...p.points, ...p.tables.flatMap((t) => t.columns)]) {
    if (names.has(pt.name)) problems.push(`point ${pt.name} appears twice`);
    names.add(pt.name);
  }
  return problems;
}
