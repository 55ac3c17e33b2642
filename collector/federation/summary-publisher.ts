import { SUMMARY_WINDOWS, type SiteSummary, type SummaryWindow } from '../../contract/summary.js';
import { DAY_MS } from '../../shared/time/site-calendar.js';
import type { SiteSource } from '../kpi/site-kpis.js';
import { settledEdge } from '../kpi/windows.js';
import type { MetricPoint } from '../store/metric-point.js';
import { SummaryTracker } from './summary-builder.js';
import { summaryPoint } from './summary-points.js';

/**
 * The site collector's side of the bureau uplink: on each KPI tick, every site's summaries that
 * are new or changed (`SummaryTracker`) are stored (`summaryPoint`) and published, QoS 1 and
 * retained, on `dcim/v1/<site>/summary/<window>`.
 *
 * A summary stays pending until the broker acknowledges it. A refusal (an ACL's 0x87, a broker
 * that failed the publish) leaves it pending and it goes again on the next tick; while it is in
 * flight it is not sent twice (mqtt.js keeps an unacknowledged QoS 1 publish across reconnects
 * itself). A newer revision of a pending window replaces the older one, so the bureau gets the
 * newest content and never an older revision after a newer one from this process. Pending
 * summaries are kept as long as the tracker still revises their window (`late_days`, plus a day);
 * older ones are dropped and counted: the site's own store still holds them.
 */
export interface SummaryPublisherOptions {
  sources: readonly SiteSource[];
  settle_ms: number;
  late_days: number;
  /** Resolves on the broker's acknowledgement; rejects when it refused or the client is gone. */
  publish: (s: SiteSummary) => Promise<void>;
  write: (points: MetricPoint[]) => void;
  /** A publish the broker refused (it stays pending). */
  onRefused: (s: SiteSummary, e: unknown) => void;
}

export interface SummaryPublisherStats {
  /** Summaries built (new windows and revisions), each also handed to the store. */
  built: number;
  /** Of `built`: windows already built once by this process, rebuilt because their content changed. */
  revisions: number;
  /** Summaries the broker acknowledged, by window. */
  published: Record<SummaryWindow, number>;
  /** Publishes refused or failed (retried on the next tick). */
  publish_failures: number;
  /** Summaries waiting for an acknowledgement (in flight or to be retried). */
  pending: number;
  /** Of `pending`: sent and not answered yet. */
  in_flight: number;
  /** Pending summaries dropped unsent because their window passed the late-data horizon. */
  expired: number;
}

interface Pending {
  summary: SiteSummary;
  inFlight: boolean;
}

const windowId = (s: Pick<SiteSummary, 'site' | 'window' | 'window_start'>) => `${s.site}|${s.window}|${s.window_start}`;

export class SummaryPublisher {
  private readonly trackers: { site: string; tracker: SummaryTracker }[];
  /** Sites that took telemetry since their tracker last looked, and the edge it looked at. */
  private readonly dirty = new Set<string>();
  private lastEdge = Number.NEGATIVE_INFINITY;
  private readonly pending = new Map<string, Pending>();
  /** Windows built by this process (for the revision count), until they pass the horizon. */
  private readonly built = new Map<string, number>();
  private readonly counts: Omit<SummaryPublisherStats, 'pending' | 'in_flight' | 'published'> = { built: 0, revisions: 0, publish_failures: 0, expired: 0 };
  private readonly published = Object.fromEntries(SUMMARY_WINDOWS.map((w) => [w, 0])) as Record<SummaryWindow, number>;

  constructor(private readonly opts: SummaryPublisherOptions) {
    this.trackers = opts.sources.map((src) => ({ site: src.site, tracker: new SummaryTracker(src, { settle_ms: opts.settle_ms, late_days: opts.late_days }) }));
    for (const t of this.trackers) this.dirty.add(t.site);
  }

  /**
   * Summaries already stored (restored at start): those unchanged are not built again, and no new
   * revision is made of them. Each is sent once more as it was: a summary is stored when built, not
   * when acknowledged, so one still pending when the process stopped would otherwise never leave;
   * the bureau takes the same message again as unchanged.
   */
  remember(summaries: ReadonlyMap<string, readonly SiteSummary[]>): void {
    for (const { site, tracker } of this.trackers) {
      const mine = summaries.get(site) ?? [];
      tracker.remember(mine);
      for (const s of mine) {
        const id = windowId(s);
        const held = this.pending.get(id);
        if (!held || held.summary.revision < s.revision) this.pending.set(id, { summary: s, inFlight: false });
      }
    }
  }

  /** A site took telemetry: its closed windows may have changed. */
  touched(site: string): void {
    this.dirty.add(site);
  }

  /** Build what is due at `now_ms`, store it, and send every pending summary not in flight. */
  tick(now_ms: number): void {
    const edge = settledEdge(now_ms, this.opts.settle_ms);
    // Without new telemetry and with the same settled edge a site's summaries cannot have changed.
    const edgeMoved = edge !== this.lastEdge;
    this.lastEdge = edge;
    const fresh: SiteSummary[] = [];
    for (const { site, tracker } of this.trackers) {
      if (!edgeMoved && !this.dirty.has(site)) continue;
      fresh.push(...tracker.due(now_ms));
    }
    this.dirty.clear();
    for (const s of fresh) {
      const id = windowId(s);
      this.counts.built++;
      if (this.built.has(id)) this.counts.revisions++;
      this.built.set(id, s.window_end);
      // An older revision in flight still completes; this one follows it on the same connection, in order.
      this.pending.set(id, { summary: s, inFlight: false });
    }
    if (fresh.length > 0) this.opts.write(fresh.map(summaryPoint));
    this.expire(edge - (this.opts.late_days + 1) * DAY_MS);
    for (const [id, p] of this.pending) if (!p.inFlight) this.send(id, p);
  }

  stats(): SummaryPublisherStats {
    let in_flight = 0;
    for (const p of this.pending.values()) if (p.inFlight) in_flight++;
    return { ...this.counts, published: { ...this.published }, pending: this.pending.size, in_flight };
  }

  private send(id: string, p: Pending): void {
    p.inFlight = true;
    const s = p.summary;
    let sent: Promise<void>;
    try {
      sent = this.opts.publish(s);
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      () => {
        this.published[s.window]++;
        // Only this revision is done: a newer one that arrived meanwhile stays pending.
        if (this.pending.get(id)?.summary === s) this.pending.delete(id);
      },
      (e: unknown) => {
        this.counts.publish_failures++;
        const now = this.pending.get(id);
        if (now?.summary === s) now.inFlight = false;
        this.opts.onRefused(s, e);
      },
    );
  }

  private expire(horizon: number): void {
    for (const [id, end] of this.built) if (end <= horizon) this.built.delete(id);
    for (const [id, p] of this.pending) {
      // One in flight is judged when its answer is in: it may yet be acknowledged.
      if (p.summary.window_end > horizon || p.inFlight) continue;
      this.pending.delete(id);
      this.counts.expired++;
    }
  }
}
