import type { KpiMessage } from '../../contract/messages.js';

/**
 * The live page's trends: the instantaneous KPI values of every site and cluster, kept in memory
 * for the last hours. Held here rather than read from the store so trends work the same whatever
 * the store is (SQLite, InfluxDB, or unreachable); a restarted collector starts its trends empty.
 */
export interface HistorySample {
  ts_ms: number;
  value: number;
}

export interface KpiHistoryOptions {
  /** How far back samples are kept. */
  keep_ms: number;
  /** At most one sample per scope and KPI per this many ms (bounds memory: keep_ms / min_step_ms). */
  min_step_ms: number;
}

export class KpiHistory {
  private readonly byKey = new Map<string, HistorySample[]>();

  constructor(private readonly opts: KpiHistoryOptions) {}

  /** Records the message's ok `instant` values; older samples fall out. */
  record(scope: 'site' | 'cluster', msg: KpiMessage): void {
    for (const k of msg.kpis) {
      if (k.window !== 'instant' || !k.ok || k.value === undefined) continue;
      const key = `${scope}/${msg.site}/${k.kpi}`;
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      const last = list[list.length - 1];
      if (last && msg.ts - last.ts_ms < this.opts.min_step_ms) continue;
      list.push({ ts_ms: msg.ts, value: k.value });
      const oldest = msg.ts - this.opts.keep_ms;
      let drop = 0;
      while (drop < list.length && list[drop]!.ts_ms < oldest) drop++;
      if (drop > 0) list.splice(0, drop);
    }
  }

  /** Samples at or after since_ms, oldest first. */
  series(scope: 'site' | 'cluster', id: string, kpi: string, since_ms: number): HistorySample[] {
    return (this.byKey.get(`${scope}/${id}/${kpi}`) ?? []).filter((s) => s.ts_ms >= since_ms);
  }
}
