import { SystemClock, type Clock } from '../../contract/clock.js';
import type { SiteInventory } from '../../contract/inventory.js';
import { createLogger, type Logger } from '../../shared/log.js';
import type { AgentState, AlertMessage, DeviceStatus, KpiValue, Reading, TelemetryMessage } from '../../contract/messages.js';
import type { DeviceProfile } from '../../contract/profile.js';
import type { MetricPoint } from '../store/metric-point.js';
import { buildAlertSites, selectedPoints, type AlertSite } from './alert-labels.js';
import { alertMessage } from './alert-message.js';
import { alertPoints } from './alert-points.js';
import type { AlertRecord, AlertState, AlertTransition } from './alert-record.js';
import { evaluateAlerts } from './evaluate-alerts.js';
import type { AlertRuleSet } from './load-rules.js';
import { AlertDispatcher, type NotifierStats } from './notifiers/dispatcher.js';
import type { Notifier } from './notifiers/notifier.js';
import { ObservedState, type MeterEventCounts } from './observed-state.js';
import { SEVERITY_RANK, type Severity } from './rule-schema.js';
import { readStateFile, setAsideStateFile, writeStateFile } from './state-file.js';

/**
 * The alerting part of the collector. The composition root feeds it what it
 * accepted (`observe…`) and calls `evaluate(now)` on its KPI tick; the engine evaluates every rule
 * (pure, evaluate-alerts.ts), keeps the alerts in a state file, and hands each state change to
 * every notifier until delivered or expired. `evaluate` returns the `alert` points to store.
 */
export interface AlertEngineOptions {
  inventories: readonly SiteInventory[];
  profiles: ReadonlyMap<string, DeviceProfile>;
  rules: AlertRuleSet;
  clock?: Clock;
  logger?: Logger;
  /** Absent: alerts live in memory only (a restart forgets them; a warning says so at start). */
  state_file?: string;
  notifiers?: readonly Notifier[];
  /** Give up a notification not delivered this long after the change (default 24 h). */
  expire_ms?: number;
  /** Keep resolved alerts (for /api/alerts and owed notifications) this long (default 24 h). */
  resolved_retention_ms?: number;
  backoff_min_ms?: number;
  backoff_max_ms?: number;
}

export interface AlertFilter {
  site?: string;
  state?: AlertState;
  severity?: Severity;
  rule?: string;
}

export interface AlertEvaluation {
  transitions: AlertTransition[];
  /** Measurement `alert`, one point per transition: hand them to the sink. */
  points: MetricPoint[];
}

export interface AlertStats {
  evaluations: number;
  /** Transitions since start. */
  fired: number;
  resolved_total: number;
  /** Alerts now, by state; firing ones by severity. */
  pending: number;
  firing: number;
  resolved: number;
  firing_by_severity: Record<Severity, number>;
  /** Readings, statuses or agent states of a site or device outside the inventory (ignored). */
  observations_unknown: number;
  /** New series or agents not kept: the bounds against invented index values and agent ids were reached. */
  observations_refused: number;
  state_writes: number;
  state_write_errors: number;
  /** The state file could not be read at start (set aside, started empty). */
  state_load_errors: number;
  notifiers: Record<string, NotifierStats>;
}

type Counters = Pick<AlertStats, 'evaluations' | 'fired' | 'resolved_total' | 'observations_unknown' | 'state_writes' | 'state_write_errors' | 'state_load_errors'>;

const DAY_MS = 86_400_000;
/** Pending timers and values are saved at least this often; transitions and deliveries at once. */
const SAVE_EVERY_MS = 30_000;

export class AlertEngine {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private sitesIndex: Map<string, AlertSite> | undefined;
  private observedState: ObservedState | undefined;
  private records = new Map<string, AlertRecord>();
  private dispatcher: AlertDispatcher | undefined;
  private watchingSince: number | undefined;
  private lastSave = Number.NEGATIVE_INFINITY;
  private saveQueued = false;
  private started = false;
  private readonly counters: Counters = { evaluations: 0, fired: 0, resolved_total: 0, observations_unknown: 0, state_writes: 0, state_write_errors: 0, state_load_errors: 0 };

  constructor(private readonly opts: AlertEngineOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.logger = opts.logger ?? createLogger({ base: { component: 'alerts' } });
  }

  private get sites(): Map<string, AlertSite> {
    return (this.sitesIndex ??= buildAlertSites(this.opts.inventories, this.opts.profiles));
  }

  /** Only the points some rule reads are kept, with history where a rate rule needs it. */
  private get observed(): ObservedState {
    if (this.observedState) return this.observedState;
    const watched = new Set<string>();
    const history_ms = new Map<string, number>();
    for (const rule of this.opts.rules.rules) {
      if (rule.kind !== 'reading' && rule.kind !== 'rate_of_change' && rule.kind !== 'stale') continue;
      for (const site of this.sites.values()) {
        for (const d of site.devices.values()) {
          for (const p of selectedPoints(d, rule)) {
            watched.add(p);
            if (rule.kind === 'rate_of_change') history_ms.set(p, Math.max(history_ms.get(p) ?? 0, rule.over));
          }
        }
      }
    }
    // An agent polls at least one device of its site: more agents than devices are invented.
    const max_agents = (site: string) => Math.max(4, this.sites.get(site)?.devices.size ?? 0);
    return (this.observedState = new ObservedState({ watched, history_ms, max_agents }));
  }

  /** Loads the saved alerts, then starts delivering (what a previous run still owed, first). */
  start(): void {
    if (this.started) throw new Error('AlertEngine already started');
    this.started = true;
    const now = this.clock.now();
    this.watchingSince = now;
    const file = this.opts.state_file;
    if (file === undefined) {
      this.logger.warn('alert state is in memory only: a restart forgets firing alerts (set alerts.state_file)');
    } else {
      const loaded = readStateFile(file);
      if (loaded.ok) {
        for (const r of loaded.state?.alerts ?? []) this.records.set(r.id, r);
        if (loaded.state) this.logger.info('alert state loaded', { file, alerts: this.records.size, firing: this.count('firing') });
      } else {
        const aside = setAsideStateFile(file, now);
        this.counters.state_load_errors++;
        this.logger.error('alert state unreadable; starting without it', { file, reason: loaded.reason, ...(aside ? { kept_as: aside } : {}) });
      }
    }
    this.dispatcher = new AlertDispatcher({
      clock: this.clock,
      logger: this.logger.child({ component: 'alert-delivery' }),
      notifiers: this.opts.notifiers ?? [],
      records: () => this.records.values(),
      markDelivered: (id, notifier, version) => this.markDelivered(id, notifier, version),
      expire_ms: this.opts.expire_ms ?? DAY_MS,
      ...(this.opts.backoff_min_ms !== undefined ? { backoff_min_ms: this.opts.backoff_min_ms } : {}),
      ...(this.opts.backoff_max_ms !== undefined ? { backoff_max_ms: this.opts.backoff_max_ms } : {}),
    });
    this.dispatcher.start();
  }

  /** Stops delivering and saves; owed notifications stay in the state file for the next start. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.dispatcher?.stop();
    this.save();
  }

  /** An accepted (deduplicated) telemetry message. Never throws. */
  observeTelemetry(msg: Pick<TelemetryMessage, 'site' | 'device' | 'ts' | 'readings'> & { agent?: string }): void {
    this.observeReadings(msg.site, msg.device, msg.ts, msg.readings, msg.agent);
  }

  observeReadings(site: string, device: string, ts_ms: number, readings: readonly Reading[], agent?: string): void {
    if (!this.sites.get(site)?.devices.has(device)) {
      this.counters.observations_unknown++;
      return;
    }
    for (const r of readings) this.observed.reading(site, device, ts_ms, r, agent);
  }

  /** The retained status of a device; `agent` when known (it polls the device). */
  observeDeviceStatus(site: string, device: string, status: DeviceStatus, agent?: string): void {
    if (!this.sites.get(site)?.devices.has(device)) {
      this.counters.observations_unknown++;
      return;
    }
    this.observed.deviceStatus(site, device, status, agent);
  }

  observeAgentState(site: string, agent: string, state: AgentState): void {
    if (!this.sites.has(site)) {
      this.counters.observations_unknown++;
      return;
    }
    this.observed.agentState(site, agent, state);
  }

  /** The site's KPI values of this tick (what the KPI engine's evaluate returned). */
  observeKpis(site: string, kpis: readonly KpiValue[]): void {
    if (this.sites.has(site)) this.observed.kpis(site, kpis);
  }

  /** The energy ledger's per-meter event counts (KpiEngine.meterEvents): resets that grew fire `counter_reset`. */
  observeMeterEvents(site: string, events: Readonly<Record<string, MeterEventCounts>>): void {
    if (this.sites.has(site)) this.observed.meterEvents(site, events);
  }

  /** Evaluate every rule at `now`: transitions, and the points to store. Never throws on data. */
  evaluate(now: number = this.clock.now()): AlertEvaluation {
    const resets = new Map([...this.sites.keys()].map((s) => [s, this.observed.takeResets(s)] as const));
    const before = this.records;
    const { records, transitions } = evaluateAlerts(this.opts.rules, { sites: this.sites, observed: this.observed, now, watching_since: this.watchingSince ?? now, resets }, before);
    const removed = this.collectGarbage(records, now);
    this.records = records;
    this.counters.evaluations++;
    for (const t of transitions) {
      if (t.kind === 'firing') this.counters.fired++;
      else this.counters.resolved_total++;
      const what = t.kind === 'firing' ? 'alert firing' : t.alert.state === 'pending' ? 'alert superseded by a more severe alert of the same place' : 'alert resolved';
      this.logger.info(what, { alert: t.alert.id, rule: t.alert.rule, severity: t.alert.severity, summary: t.alert.summary });
    }
    const structural = transitions.length > 0 || removed > 0 || records.size !== before.size;
    if (structural || now - this.lastSave >= SAVE_EVERY_MS) this.save(now);
    if (transitions.length > 0) this.dispatcher?.kick();
    return { transitions, points: alertPoints(transitions) };
  }

  /** Resolved alerts past their retention whose notifications are done (delivered or expired). */
  private collectGarbage(records: Map<string, AlertRecord>, now: number): number {
    const retention = this.opts.resolved_retention_ms ?? DAY_MS;
    const expire = this.opts.expire_ms ?? DAY_MS;
    const names = (this.opts.notifiers ?? []).map((n) => n.name);
    let removed = 0;
    for (const [id, r] of records) {
      if (r.state !== 'resolved' || r.ends_at === null || now - r.ends_at < retention) continue;
      const done = names.every((n) => (r.delivered[n] ?? 0) >= r.version) || now - r.changed_at > expire;
      if (done) {
        records.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private markDelivered(id: string, notifier: string, version: number): void {
    const r = this.records.get(id);
    if (!r || (r.delivered[notifier] ?? 0) >= version) return;
    this.records.set(id, { ...r, delivered: { ...r.delivered, [notifier]: version } });
    this.saveSoon();
  }

  /** Deliveries are acknowledged one by one: save once per burst. */
  private saveSoon(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    queueMicrotask(() => {
      this.saveQueued = false;
      this.save();
    });
  }

  private save(now: number = this.clock.now()): void {
    const file = this.opts.state_file;
    this.lastSave = now;
    if (file === undefined) return;
    try {
      writeStateFile(file, this.records.values(), now);
      this.counters.state_writes++;
    } catch (e) {
      this.counters.state_write_errors++;
      if (this.counters.state_write_errors === 1 || this.counters.state_write_errors % 100 === 0)
        this.logger.error('alert state could not be saved; a restart would re-fire or forget alerts', { file, error: e as Error, failures: this.counters.state_write_errors });
    }
  }

  /** Deliver everything owed now and wait (tests, tools). */
  async flushDeliveries(): Promise<void> {
    await this.dispatcher?.flush();
  }

  /** Alerts for the API: firing first (most severe, newest), then pending, then resolved (newest first). */
  list(filter: AlertFilter = {}): AlertMessage[] {
    const order: Record<AlertState, number> = { firing: 0, pending: 1, resolved: 2 };
    return [...this.records.values()]
      .filter((r) => (filter.site === undefined || r.labels.site === filter.site) && (filter.state === undefined || r.state === filter.state) && (filter.severity === undefined || r.severity === filter.severity) && (filter.rule === undefined || r.rule === filter.rule))
      .sort(
        (a, b) =>
          order[a.state] - order[b.state] ||
          SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
          (b.ends_at ?? b.starts_at ?? b.pending_since ?? 0) - (a.ends_at ?? a.starts_at ?? a.pending_since ?? 0) ||
          (a.id < b.id ? -1 : 1),
      )
      .map((r) => alertMessage(r));
  }

  get(id: string): AlertMessage | undefined {
    const r = this.records.get(id);
    return r ? alertMessage(r) : undefined;
  }

  private count(state: AlertState): number {
    let n = 0;
    for (const r of this.records.values()) if (r.state === state) n++;
    return n;
  }

  stats(): AlertStats {
    const firing_by_severity: Record<Severity, number> = { info: 0, warning: 0, critical: 0 };
    for (const r of this.records.values()) if (r.state === 'firing') firing_by_severity[r.severity]++;
    return {
      ...this.counters,
      observations_refused: this.observedState?.refused ?? 0,
      pending: this.count('pending'),
      firing: this.count('firing'),
      resolved: this.count('resolved'),
      firing_by_severity,
      notifiers: this.dispatcher?.stats() ?? {},
    };
  }
}
