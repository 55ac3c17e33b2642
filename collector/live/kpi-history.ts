import type { KpiMessage } from '../../contract/messages.js';

/**
 * The live page's trends: the instantaneous KPI values of every site and cluster, kept in memory
 * for the last hours, and the daily figures (PUE, 上架率, 绿电占比 of each closed day) for the
 * last days, which the bureau view draws. Held here rather than read from the store so trends
 * work the same whatever the store is (SQLite, InfluxDB, or unreachable); a restarted collector
 * starts its trends empty (the Grafana dashboards read the stored history).
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
  /** How many days of daily figures are kept per scope and KPI; default 90. */
  keep_days?: number;
}

/** The daily figures kept: the three targets' KPIs. */
export const DAILY_KPIS: readonly string[] = ['pue', 'rack_occupancy_ratio', 'green_share_ratio'];

export class KpiHistory {
  private readonly byKey = new Map<string, HistorySample[]>();
  private readonly daily = new Map<string, HistorySample[]>();

  constructor(private readonly opts: KpiHistoryOptions) {}

  /** Records the message's ok `instant` values; older samples fall out. */
  record(scope: 'site' | 'cluster', msg: KpiMessage): void {
    for (const k of msg.kpis) {
      if (k.window === '1d') this.recordDay(scope, msg.site, k);
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

  /**
   * A closed day's figure, stamped at the day's end: a new day is appended, a revised one (late
   * data) replaces its earlier value. A cluster's headline figure only (energy-weighted or
   * pooled), not the mean of its sites.
   */
  private recordDay(scope: 'site' | 'cluster', id: string, k: KpiMessage['kpis'][number]): void {
    if (!DAILY_KPIS.includes(k.kpi) || k.basis === 'mean_of_sites' || !k.ok || k.value === undefined) return;
    const key = `${scope}/${id}/${k.kpi}`;
    let list = this.daily.get(key);
    if (!list) this.daily.set(key, (list = []));
    const same = list.findIndex((x) => x.ts_ms === k.window_end);
    if (same >= 0) {
      list[same] = { ts_ms: k.window_end, value: k.value };
      return;
    }
    list.push({ ts_ms: k.window_end, value: k.value });
    list.sort((a, b) => a.ts_ms - b.ts_ms);
    const keep = this.opts.keep_days ?? 90;
    if (list.length > keep) list.splice(0, list.length - keep);
  }

  /** Daily figures whose day ended at or after since_ms, oldest first. */
  dailySeries(scope: 'site' | 'cluster', id: string, kpi: string, since_ms: number): HistorySample[] {
    return (this.daily.get(`${scope}/${id}/${kpi}`) ?? []).filter((s) => s.ts_ms >= since_ms);
  }

  /** Samples at or after since_ms, oldest first. */
  series(scope: 'site' | 'cluster', id: string, kpi: string, since_ms: number): HistorySample[] {
    return (this.byKey.get(`${scope}/${id}/${kpi}`) ?? []).filter((s) => s.ts_ms >= since_ms);
  }
}
