import type { AgentState, DeviceStatus, KpiValue, Reading } from '../../contract/messages.js';

/**
 * What the alert rules look at, as last observed: the watched readings of each device (latest
 * value per series, and a short history where a rate-of-change rule needs one), device statuses,
 * agent states, the site KPIs and the energy ledger's reset counts. Plain data, fed by the
 * collector and read by the evaluator; nothing here knows about time except the readings' own
 * timestamps.
 */
export interface Sample {
  ts_ms: number;
  value: number | string | boolean;
}

export interface SeriesState {
  device: string;
  point: string;
  /** Index tags as `sensor=2,inlet=1`; empty for a scalar point. */
  index: string;
  latest: Sample;
  /** Numeric samples within the longest rate-of-change window of this point, oldest first. */
  history: Sample[];
}

export interface MeterEventCounts {
  resets: number;
}

export interface ObservedOptions {
  /** Point names any rule reads; other readings are not kept. */
  watched: ReadonlySet<string>;
  /** Point name → history to keep (ms), for rate-of-change rules. */
  history_ms: ReadonlyMap<string, number>;
  /**
   * Bounds against what peers invent (index values, agent ids): series over all sites (default
   * 250,000) and agents per site (default unbounded). A new one beyond is not kept, and counted.
   */
  max_series?: number;
  max_agents?: (site: string) => number;
}

const indexKey = (index: Reading['index']) =>
  index
    ? Object.entries(index)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';

export class ObservedState {
  /** site → `device|point|index` → series. */
  private readonly series = new Map<string, Map<string, SeriesState>>();
  /** site → device → the newest reading time per point (any series of it). */
  private readonly lastSeen = new Map<string, Map<string, Map<string, number>>>();
  private readonly statuses = new Map<string, Map<string, DeviceStatus>>();
  private readonly agents = new Map<string, Map<string, AgentState>>();
  /** site → device → the agent that last published its telemetry or status. */
  private readonly pollers = new Map<string, Map<string, string>>();
  private readonly kpiValues = new Map<string, readonly KpiValue[]>();
  private readonly resetCounts = new Map<string, Map<string, number>>();
  /** site → devices whose reset count grew since the last `takeResets`. */
  private readonly newResets = new Map<string, Set<string>>();

  private seriesCount = 0;
  private refusedCount = 0;

  constructor(private readonly opts: ObservedOptions) {}

  /** New series or agents not kept because their bound was reached. */
  get refused(): number {
    return this.refusedCount;
  }

  reading(site: string, device: string, ts_ms: number, r: Reading, agent?: string): void {
    if (agent !== undefined) this.setPoller(site, device, agent);
    if (!this.opts.watched.has(r.point)) return;
    if (r.quality === 'bad' || r.value === null) return;
    const value = typeof r.value === 'string' && /^\d{1,20}$/.test(r.value) ? Number(r.value) : r.value;
    if (typeof value === 'number' && !Number.isFinite(value)) return;
    const index = indexKey(r.index);
    const key = `${device}|${r.point}|${index}`;
    let bySite = this.series.get(site);
    if (!bySite) this.series.set(site, (bySite = new Map()));
    let s = bySite.get(key);
    if (!s) {
      if (this.seriesCount >= (this.opts.max_series ?? 250_000)) {
        this.refusedCount++;
        return;
      }
      this.seriesCount++;
      bySite.set(key, (s = { device, point: r.point, index, latest: { ts_ms, value }, history: [] }));
    } else if (ts_ms < s.latest.ts_ms) {
      // A replayed backlog: too old to be the live value; it may still fill the history.
      this.addHistory(s, ts_ms, value);
      return;
    } else s.latest = { ts_ms, value };
    this.addHistory(s, ts_ms, value);

    let devices = this.lastSeen.get(site);
    if (!devices) this.lastSeen.set(site, (devices = new Map()));
    let points = devices.get(device);
    if (!points) devices.set(device, (points = new Map()));
    points.set(r.point, Math.max(points.get(r.point) ?? 0, ts_ms));
  }

  private addHistory(s: SeriesState, ts_ms: number, value: Sample['value']): void {
    const keep = this.opts.history_ms.get(s.point);
    if (keep === undefined || typeof value !== 'number') return;
    const h = s.history;
    let i = h.length;
    while (i > 0 && (h[i - 1] as Sample).ts_ms > ts_ms) i--;
    if (i > 0 && (h[i - 1] as Sample).ts_ms === ts_ms) return;
    h.splice(i, 0, { ts_ms, value });
    const from = s.latest.ts_ms - keep;
    let drop = 0;
    while (drop < h.length && (h[drop] as Sample).ts_ms < from) drop++;
    if (drop > 0) h.splice(0, drop);
  }

  deviceStatus(site: string, device: string, status: DeviceStatus, agent?: string): void {
    if (agent !== undefined) this.setPoller(site, device, agent);
    let m = this.statuses.get(site);
    if (!m) this.statuses.set(site, (m = new Map()));
    m.set(device, status);
  }

  agentState(site: string, agent: string, state: AgentState): void {
    let m = this.agents.get(site);
    if (!m) this.agents.set(site, (m = new Map()));
    if (!m.has(agent) && m.size >= (this.opts.max_agents?.(site) ?? Number.POSITIVE_INFINITY)) {
      this.refusedCount++;
      return;
    }
    m.set(agent, state);
  }

  kpis(site: string, kpis: readonly KpiValue[]): void {
    this.kpiValues.set(site, kpis);
  }

  /** The ledger's cumulative reset count per meter; the first count seen is the baseline. */
  meterEvents(site: string, events: Readonly<Record<string, MeterEventCounts>>): void {
    let counts = this.resetCounts.get(site);
    if (!counts) this.resetCounts.set(site, (counts = new Map()));
    for (const [device, e] of Object.entries(events)) {
      const prev = counts.get(device);
      counts.set(device, e.resets);
      if (prev !== undefined && e.resets > prev) {
        let s = this.newResets.get(site);
        if (!s) this.newResets.set(site, (s = new Set()));
        s.add(device);
      }
    }
  }

  private setPoller(site: string, device: string, agent: string): void {
    let m = this.pollers.get(site);
    if (!m) this.pollers.set(site, (m = new Map()));
    m.set(device, agent);
  }

  seriesOf(site: string): Iterable<SeriesState> {
    return this.series.get(site)?.values() ?? [];
  }

  lastSeenOf(site: string, device: string, point: string): number | undefined {
    return this.lastSeen.get(site)?.get(device)?.get(point);
  }

  statusOf(site: string, device: string): DeviceStatus | undefined {
    return this.statuses.get(site)?.get(device);
  }

  agentsOf(site: string): ReadonlyMap<string, AgentState> {
    return this.agents.get(site) ?? new Map();
  }

  pollerOf(site: string, device: string): string | undefined {
    return this.pollers.get(site)?.get(device);
  }

  kpisOf(site: string): readonly KpiValue[] | undefined {
    return this.kpiValues.get(site);
  }

  /** Devices whose counter was reset since the last call; the evaluator consumes them once. */
  takeResets(site: string): ReadonlySet<string> {
    const s = this.newResets.get(site);
    this.newResets.delete(site);
    return s ?? new Set();
  }
}
