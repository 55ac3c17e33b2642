import type { Clock, TimerHandle } from '../../../contract/clock.js';
import type { Logger } from '../../../shared/log.js';
import type { AlertRecord } from '../alert-record.js';
import { deliverableState } from '../lifecycle.js';
import type { Delivery, Notifier } from './notifier.js';

/**
 * Delivers every alert state to every notifier until it is acknowledged or expires: nothing is
 * lost while a destination is down. The work is level-triggered: what is due is read from the
 * records (`delivered[notifier] < version`), which live in the state file, so a restart resumes
 * the deliveries it owed. Each notifier runs on its own: one slow or dead destination never
 * delays another.
 *
 * Failures back off exponentially (min … max, or the destination's Retry-After); a destination
 * that refuses an alert for good (HTTP 4xx) gets it marked and counted, not retried forever. A
 * notifier that keeps to a rate limit (group robots) says `throttled`: the lane waits for the
 * free slot without counting a failure.
 * Notifiers with `resend_ms` (Alertmanager) also get every firing alert again at that period.
 */
export interface DispatcherOptions {
  clock: Clock;
  logger: Logger;
  notifiers: readonly Notifier[];
  records: () => Iterable<AlertRecord>;
  markDelivered: (id: string, notifier: string, version: number) => void;
  /** A state not delivered this long after it happened is given up (counted as expired). */
  expire_ms: number;
  backoff_min_ms?: number;
  backoff_max_ms?: number;
}

export interface NotifierStats {
  /** Alert states acknowledged by the destination (re-sends included). */
  sent: number;
  /** Send attempts that failed (each is retried). */
  failures: number;
  /** Alert states the destination refused for good. */
  rejected: number;
  /** Alert states given up after `expire_ms`. */
  expired: number;
  /** Sends held back to keep within the destination's rate limit (retried when a slot frees). */
  throttled: number;
  /** Alert states waiting for delivery now. */
  pending: number;
  consecutive_failures: number;
  last_error: string | null;
  last_success_ms: number | null;
  /** The notifier's own counters (group robots: messages, digests, truncated …). */
  counters?: Record<string, number>;
}

interface Lane {
  notifier: Notifier;
  stats: NotifierStats;
  busy: Promise<void> | undefined;
  again: boolean;
  retryTimer: TimerHandle | undefined;
  retryAt: number;
  resendTimer: TimerHandle | undefined;
  lastResend: number;
}

export class AlertDispatcher {
  private readonly lanes: Lane[];
  private running = false;

  constructor(private readonly opts: DispatcherOptions) {
    const names = new Set<string>();
    for (const n of opts.notifiers) {
      if (names.has(n.name)) throw new Error(`two notifiers are named ${n.name}`);
      names.add(n.name);
    }
    this.lanes = opts.notifiers.map((notifier) => ({
      notifier,
      stats: { sent: 0, failures: 0, rejected: 0, expired: 0, throttled: 0, pending: 0, consecutive_failures: 0, last_error: null, last_success_ms: null },
      busy: undefined,
      again: false,
      retryTimer: undefined,
      retryAt: 0,
      resendTimer: undefined,
      lastResend: Number.NEGATIVE_INFINITY,
    }));
  }

  /** Starts the re-send timers and delivers what is owed (from the state file, after a restart). */
  start(): void {
    this.running = true;
    for (const lane of this.lanes) {
      if (lane.notifier.resend_ms !== undefined) this.scheduleResend(lane);
    }
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const lane of this.lanes) {
      lane.retryTimer?.cancel();
      lane.resendTimer?.cancel();
      lane.retryTimer = lane.resendTimer = undefined;
    }
    await Promise.all(this.lanes.map((l) => l.busy));
  }

  /** Something changed: deliver now, except to destinations waiting out a back-off. */
  kick(): void {
    if (!this.running) return;
    const now = this.opts.clock.now();
    for (const lane of this.lanes) if (now >= lane.retryAt) void this.run(lane);
  }

  /** Run every lane once and wait for it (tests, shutdown), ignoring back-off. */
  async flush(): Promise<void> {
    await Promise.all(
      this.lanes.map(async (l) => {
        await this.run(l);
        // A change that arrived while a round was running gets its own round: wait for that too.
        while (l.busy) await l.busy;
      }),
    );
  }

  stats(): Record<string, NotifierStats> {
    const now = this.opts.clock.now();
    const out: Record<string, NotifierStats> = {};
    for (const lane of this.lanes) {
      const counters = lane.notifier.counters?.();
      out[lane.notifier.name] = { ...lane.stats, pending: this.due(lane, now, false).length, ...(counters ? { counters } : {}) };
    }
    return out;
  }

  private scheduleResend(lane: Lane): void {
    const period = lane.notifier.resend_ms as number;
    lane.resendTimer = this.opts.clock.setTimeout(() => {
      if (!this.running) return;
      void this.run(lane);
      this.scheduleResend(lane);
    }, period);
  }

  private run(lane: Lane): Promise<void> {
    if (lane.busy) {
      lane.again = true;
      return lane.busy;
    }
    lane.busy = this.drain(lane)
      .catch((e: unknown) => this.opts.logger.error('alert delivery loop failed', { notifier: lane.notifier.name, error: e as Error }))
      .finally(() => {
        lane.busy = undefined;
        if (lane.again && this.running) {
          lane.again = false;
          void this.run(lane);
        }
      });
    return lane.busy;
  }

  /** What `lane` owes now; with `expire`, states too old are given up on the way. */
  private due(lane: Lane, now: number, expire: boolean): Delivery[] {
    const name = lane.notifier.name;
    const resend = lane.notifier.resend_ms !== undefined && now - lane.lastResend >= lane.notifier.resend_ms;
    const out: Delivery[] = [];
    for (const r of this.opts.records()) {
      const state = deliverableState(r);
      if (!state) continue;
      const owed = (r.delivered[name] ?? 0) < r.version;
      if (!owed) {
        if (resend && state === 'firing') out.push({ record: r, state, version: r.version });
        continue;
      }
      if (now - r.changed_at > this.opts.expire_ms) {
        if (expire) {
          lane.stats.expired++;
          this.opts.markDelivered(r.id, name, r.version);
          this.opts.logger.error('alert notification expired undelivered', { notifier: name, alert: r.id, state, changed_at: new Date(r.changed_at).toISOString() });
        }
        continue;
      }
      out.push({ record: r, state, version: r.version });
    }
    return out.sort((a, b) => a.record.changed_at - b.record.changed_at || (a.record.id < b.record.id ? -1 : 1));
  }

  private async drain(lane: Lane): Promise<void> {
    const n = lane.notifier;
    const now = this.opts.clock.now();
    const resendRound = n.resend_ms !== undefined && now - lane.lastResend >= n.resend_ms;
    const due = this.due(lane, now, true);
    for (let i = 0; i < due.length; i += n.batch_size) {
      const batch = due.slice(i, i + n.batch_size);
      const result = await n.send(batch, this.opts.clock.now());
      const versions = new Map(batch.map((d) => [d.record.id, d.version]));
      for (const id of result.delivered) this.opts.markDelivered(id, n.name, versions.get(id) ?? 0);
      for (const id of result.rejected) this.opts.markDelivered(id, n.name, versions.get(id) ?? 0);
      lane.stats.sent += result.delivered.length;
      lane.stats.rejected += result.rejected.length;
      if (result.rejected.length > 0)
        this.opts.logger.error('alert notification refused by the destination', { notifier: n.name, alerts: result.rejected, error: result.failure?.message, ...(result.failure?.code ? { code: result.failure.code } : {}) });
      if (result.delivered.length > 0) this.delivered(lane);
      if (result.failure?.throttled) {
        // A rate limit is the destination working as designed: wait for the slot, no back-off.
        lane.stats.throttled++;
        const wait = Math.max(1, result.failure.retry_after_ms ?? 1000);
        // Our own limiter is routine; the destination saying "too fast" means another sender shares it.
        if (result.failure.code) this.opts.logger.warn('alert notification throttled by the destination; waiting', { notifier: n.name, error: result.failure.message, code: result.failure.code, retry_in_ms: wait });
        this.retryLater(lane, wait);
        return;
      }
      if (result.failure && result.failure.retryable) {
        lane.stats.failures++;
        lane.stats.consecutive_failures++;
        lane.stats.last_error = result.failure.message;
        const backoff = Math.min(this.opts.backoff_max_ms ?? 60_000, (this.opts.backoff_min_ms ?? 1000) * 2 ** Math.min(lane.stats.consecutive_failures - 1, 20));
        const wait = Math.max(backoff, result.failure.retry_after_ms ?? 0);
        if (lane.stats.consecutive_failures === 1 || lane.stats.consecutive_failures % 10 === 0)
          this.opts.logger.warn('alert notification failed; retrying', {
            notifier: n.name,
            error: result.failure.message,
            ...(result.failure.code ? { code: result.failure.code } : {}),
            attempt: lane.stats.consecutive_failures,
            retry_in_ms: wait,
          });
        this.retryLater(lane, wait);
        return;
      }
    }
    lane.retryAt = 0;
    if (resendRound) lane.lastResend = now;
  }

  private delivered(lane: Lane): void {
    lane.stats.last_success_ms = this.opts.clock.now();
    if (lane.stats.consecutive_failures > 0) this.opts.logger.info('alert notifications delivered again', { notifier: lane.notifier.name, after_failures: lane.stats.consecutive_failures });
    lane.stats.consecutive_failures = 0;
    lane.stats.last_error = null;
  }

  private retryLater(lane: Lane, wait_ms: number): void {
    lane.retryTimer?.cancel();
    lane.retryAt = this.opts.clock.now() + wait_ms;
    if (!this.running) return;
    lane.retryTimer = this.opts.clock.setTimeout(() => {
      lane.retryTimer = undefined;
      lane.retryAt = 0;
      void this.run(lane);
    }, wait_ms);
  }
}
