import type { KpiValue } from '../../../contract/messages.js';
import type { ClusterContext } from './kpi-module.js';

/** Live figures roll up only when every hosted source has them (a bureau's sources have none). */
export function liveRollup(ctx: ClusterContext, i: 0 | 1, rollup: (perSite: ReadonlyMap<string, KpiValue>) => KpiValue[]): KpiValue[] {
  const live = ctx.live();
  if (!live.every((l) => l !== undefined)) return [];
  return rollup(new Map(ctx.hosted.map((src, j) => [src.site, live[j]![i]])));
}
