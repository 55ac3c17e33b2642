import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { agentMetricFamilies } from './agent-families.js';
import { summarize, type AgentSnapshot, type AgentSummary } from './agent-snapshot.js';
import { expositionChunks, formatExposition } from '../../shared/metrics/exposition.js';
import { healthMap, type HealthMap } from './health-map.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import { MetricsServer } from './metrics-server.js';

/**
 * The agent's self-metrics, both ways out (README "Metrics"): the Prometheus /metrics endpoint
 * (when an address is configured) and the `health` map in the retained agent state, sent every
 * `healthIntervalMs` and whenever the agent calls `publishNow()` (after each reconnect, so the
 * retained state never stays without health for a whole interval).
 */
export interface SelfMetricsOptions {
  snapshot: () => AgentSnapshot;
  /** The sums the health map needs, built without an object per device; default: summarize(snapshot()). */
  summary?: () => AgentSummary;
  /** Publish the agent state with this health map; resolves false when it was not sent (offline). */
  publishHealth: (health: HealthMap) => Promise<boolean>;
  /** Serve /metrics here; undefined: no endpoint. */
  listen?: ListenAddress | undefined;
  healthIntervalMs: number;
  clock: Clock;
  logger: Logger;
}

/** README "Metrics": once a minute is enough for a dashboard and costs one small retained message. */
export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;

export class AgentSelfMetrics {
  private server: MetricsServer | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private sending: Promise<boolean> | undefined;

  constructor(private readonly opts: SelfMetricsOptions) {}

  /** Start the endpoint (rejects when the address cannot be bound) and the health timer. */
  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    if (o.listen) {
      const server = new MetricsServer({ listen: o.listen, render: () => this.renderYielding(), logger: o.logger });
      const bound = await server.start();
      this.server = server;
      o.logger.info('metrics endpoint listening', { url: `http://${formatListenAddress(bound)}/metrics` });
    }
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    await Promise.all([server?.stop(), this.sending]);
  }

  /** The endpoint's URL once started (with the port the OS chose for port 0). */
  get url(): string | undefined {
    const a = this.server?.address;
    return a ? `http://${formatListenAddress(a)}/metrics` : undefined;
  }

  render(): string {
    return formatExposition(agentMetricFamilies(this.opts.snapshot()));
  }

  /** render(), giving the event loop a turn after every family (README "Metrics": measured cost). */
  async renderYielding(): Promise<string> {
    let text = '';
    for (const chunk of expositionChunks(agentMetricFamilies(this.opts.snapshot()))) {
      text += chunk;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return text;
  }

  health(): HealthMap {
    return healthMap(this.opts.summary ? this.opts.summary() : summarize(this.opts.snapshot()));
  }

  /** Send the health map now; one send at a time (a second call while one is pending shares it). */
  publishNow(): Promise<boolean> {
    if (!this.running) return Promise.resolve(false);
    if (this.sending) return this.sending;
    const p = this.opts
      .publishHealth(this.health())
      .catch((e: unknown) => {
        this.opts.logger.warn('agent health not published', { error: e as Error });
        return false;
      })
      .finally(() => {
        if (this.sending === p) this.sending = undefined;
      });
    this.sending = p;
    return p;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.publishNow().finally(() => this.schedule());
    }, this.opts.healthIntervalMs);
  }
}
