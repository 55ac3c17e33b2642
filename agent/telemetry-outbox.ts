import { topics, type Clock, type TelemetryMessage, type TimerHandle } from '../contract/index.js';
import type { Logger } from '../shared/log.js';
import type { Result } from '../shared/result.js';
import type { PublishFailure } from './publisher.js';
import { Pacer } from '../shared/spool/pacer.js';
import { emptySpoolStats, type Spool, type SpoolStats } from '../shared/spool/spool.js';

/**
 * Where finished telemetry messages go (docs/design.md §2). The scheduler's sink hands every
 * message to `submit`, which never waits for the broker: the message is checked against the
 * contract, appended to the disk spool, and only then sent. A record leaves the spool on its
 * PUBACK, never earlier.
 *
 * Sending uses two cursors over the spool's ids (= seq order, since seq is taken and the
 * record appended in one synchronous step):
 * - **live**: records appended since the current connection came up, sent at once, oldest
 *   first;
 * - **replay**: everything older (the backlog of an outage, or of a previous run), sent oldest
 *   first and paced by a token bucket (`replayRatePerS`), so the broker and the collector are
 *   not flooded after an outage while live data keeps flowing beside it.
 * At most `maxInFlight` messages await their PUBACK; when there is a backlog a quarter of that
 * window is kept for it, so a busy live stream cannot starve the replay. The collector's
 * de-duplication accepts seqs out of order (collector/state/seq-dedup.ts); within each cursor
 * they are strictly rising.
 *
 * On a disconnect nothing new is sent. Messages already handed to mqtt.js stay in its session
 * store and are resent by it after the reconnect; they count as in flight until their PUBACK
 * (or failure) arrives, so they are never sent twice by us. On every (re)connect the live
 * boundary moves to the newest record: what piled up meanwhile is backlog.
 */
export interface TelemetryOutbox {
  submit(message: TelemetryMessage): void;
  start(): void;
  /** Send nothing new; wait up to `timeoutMs` for the PUBACKs of messages in flight. */
  stop(timeoutMs: number): Promise<void>;
  stats(): OutboxStats;
}

/** The slice of the Publisher the outbox uses (a port, so the sender is tested without a broker). */
export interface TelemetryPublisher {
  readonly connected: boolean;
  onConnect(fn: () => void): () => void;
  onClose(fn: () => void): () => void;
  prepare(topic: string, payload: unknown): Result<string, PublishFailure>;
  /** The outbox passes the JSON's UTF-8 bytes (kept off the V8 heap while awaiting the PUBACK). */
  publishPrepared(topic: string, json: Buffer): Promise<Result<void, PublishFailure>>;
}

export interface OutboxStats {
  /** Messages accepted into the spool. */
  submitted: number;
  /** Messages the broker acknowledged (PUBACK). */
  published: number;
  /** Of those, how many came from the backlog. */
  replayed: number;
  /** Messages the contract check refused (never spooled). */
  refused_invalid: number;
  /** Messages the spool refused (full or failing disk; see spool.refused_records). */
  refused_spool: number;
  in_flight: number;
  /** Waiting records from before the current connection (being replayed, paced). */
  backlog: number;
  /** Waiting records appended since the current connection came up. */
  live_pending: number;
  last_puback_ts: number | null;
  spool: SpoolStats;
}

/** Stats of an outbox that never ran. */
export function emptyOutboxStats(): OutboxStats {
  return {
    submitted: 0,
    published: 0,
    replayed: 0,
    refused_invalid: 0,
    refused_spool: 0,
    in_flight: 0,
    backlog: 0,
    live_pending: 0,
    last_puback_ts: null,
    spool: emptySpoolStats(),
  };
}

export interface SpoolOutboxOptions {
  spool: Spool;
  publisher: TelemetryPublisher;
  clock: Clock;
  logger: Logger;
  /** Messages awaiting PUBACK at once; default 32. */
  maxInFlight?: number;
  /** Backlog messages per second; default 200. */
  replayRatePerS?: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 32;
export const DEFAULT_REPLAY_RATE_PER_S = 200;
/**
 * Bound on the bytes of JSON kept in memory for the live cursor (about 50 polls of 20 readings);
 * beyond it records are read back from disk when their turn comes. A record that waits here for
 * a free in-flight slot outlives V8's young generation and becomes old-space garbage once sent:
 * when a sweep outruns the broker's PUBACKs, a large bound turns every message into that.
 */
const MAX_FRESH_BYTES = 64 * 1024;
/** Worst-case UTF-8 bytes per UTF-16 code unit: the frame buffer is sized without scanning the text. */
const UTF8_MAX_PER_UNIT = 3;

type Via = 'live' | 'replay';

export class SpoolOutbox implements TelemetryOutbox {
  private readonly maxInFlight: number;
  private readonly pacer: Pacer;
  private readonly inFlight = new Map<number, Via>();
  /**
   * Records appended while connected and not yet sent, as a copy of the JSON bytes just written
   * (a Buffer: its bytes live outside the V8 heap, so a message waiting here or for its PUBACK
   * is no string surviving scavenges into the old space): the live cursor sends them without
   * reading them back. Only ids the spool still holds are ever sent
   * (nextEligible), so a record a bound dropped meanwhile is not; a record sent and not
   * acknowledged is read from the spool when it is sent again.
   */
  private readonly fresh = new Map<number, { topic: string; json: Buffer }>();
  private freshBytes = 0;
  /** The spool record (`<topic>\n<json>`) is written here, then copied by the spool into its frame: one buffer for every poll. */
  private readonly frame = Buffer.allocUnsafe(64 * 1024);
  private liveFrom = 0;
  private liveNext = 0;
  private replayNext = 0;
  private running = false;
  /** The current connection's onConnect hook has run: the live boundary is this connection's. */
  private session = false;
  private wake: TimerHandle | undefined;
  private unsubscribe: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private replay: { since: number; replayed_at_start: number } | undefined;
  private readonly counts = { submitted: 0, published: 0, replayed: 0, refused_invalid: 0, refused_spool: 0 };
  private lastPuback: number | null = null;

  constructor(private readonly opts: SpoolOutboxOptions) {
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT));
    this.pacer = new Pacer(opts.replayRatePerS ?? DEFAULT_REPLAY_RATE_PER_S);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const p = this.opts.publisher;
    this.session = p.connected;
    this.moveLiveBoundary();
    this.unsubscribe = [
      p.onConnect(() => {
        this.session = true;
        this.moveLiveBoundary();
        this.pump();
      }),
      p.onClose(() => (this.session = false)),
    ];
    this.pump();
  }

  submit(message: TelemetryMessage): void {
    let topic: string;
    try {
      topic = topics.telemetry(message.site, message.agent, message.device);
    } catch (e) {
      this.counts.refused_invalid++;
      this.opts.logger.warn('telemetry refused: no valid topic', { device: message.device, seq: message.seq, error: e as Error });
      return;
    }
    const prepared = this.opts.publisher.prepare(topic, message);
    if (!prepared.ok) {
      this.counts.refused_invalid++;
      return;
    }
    const frame = this.frameOf(topic, prepared.value);
    const appended = this.opts.spool.append(frame.record);
    if (!appended.ok) {
      this.counts.refused_spool++;
      return;
    }
    if (this.session && this.opts.publisher.connected) {
      // Past the budget the record waits on disk only. An entry whose record a spool bound dropped
      // unsent stays until the next connect clears the map: the budget bounds those too.
      const bytes = frame.record.length - frame.jsonAt;
      if (this.freshBytes + bytes <= MAX_FRESH_BYTES) {
        this.fresh.set(appended.value, { topic, json: Buffer.from(frame.record.subarray(frame.jsonAt)) });
        this.freshBytes += bytes;
      }
    }
    this.counts.submitted++;
    this.pump();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.clearFresh();
    this.wake?.cancel();
    this.wake = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => {
      const t = this.opts.clock.setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        t.cancel();
        resolve();
      });
    });
  }

  stats(): OutboxStats {
    const s = this.opts.spool;
    // While disconnected everything waiting is backlog: the live boundary moves on the next connect.
    const boundary = this.session && this.opts.publisher.connected ? this.liveFrom : s.nextId;
    return {
      ...this.counts,
      in_flight: this.inFlight.size,
      backlog: s.countPending(s.floor, boundary),
      live_pending: s.countPending(boundary, s.nextId),
      last_puback_ts: this.lastPuback,
      spool: s.stats(),
    };
  }

  /** Everything waiting now is backlog; what is appended from here on is live. */
  private moveLiveBoundary(): void {
    const s = this.opts.spool;
    // What piled up is backlog now, replayed from disk.
    this.clearFresh();
    this.liveFrom = s.nextId;
    this.liveNext = s.nextId;
    this.replayNext = s.floor;
    const backlog = s.countPending(s.floor, this.liveFrom);
    if (backlog > 0 && this.opts.publisher.connected) {
      this.replay ??= { since: this.opts.clock.now(), replayed_at_start: this.counts.replayed };
      this.opts.logger.info('replaying spooled telemetry', { records: backlog, oldest_age_ms: s.stats().oldest_age_ms, replay_rate_per_s: this.opts.replayRatePerS ?? DEFAULT_REPLAY_RATE_PER_S });
    }
  }

  /** Fill the in-flight window: live records first, then the backlog as the pacer allows. */
  private pump(): void {
    if (!this.running || !this.session || !this.opts.publisher.connected) return;
    const spool = this.opts.spool;
    const w = this.maxInFlight;
    const backlogWaiting = this.nextEligible(this.replayNext, this.liveFrom) !== undefined;
    const liveCap = backlogWaiting ? w - Math.ceil(w / 4) : w;
    let liveInFlight = 0;
    for (const via of this.inFlight.values()) if (via === 'live') liveInFlight++;

    while (liveInFlight < liveCap && this.inFlight.size < w && this.opts.publisher.connected) {
      const id = this.nextEligible(this.liveNext, spool.nextId);
      if (id === undefined) break;
      this.liveNext = id + 1;
      if (this.send(id, 'live')) liveInFlight++;
    }

    while (this.inFlight.size < w && this.opts.publisher.connected) {
      const id = this.nextEligible(this.replayNext, this.liveFrom);
      if (id === undefined) {
        this.noteReplayDone();
        break;
      }
      const now = this.opts.clock.now();
      if (!this.pacer.tryTake(now)) {
        this.wakeIn(this.pacer.waitMs(now));
        break;
      }
      this.replayNext = id + 1;
      this.send(id, 'replay');
    }
  }

  /** The oldest waiting id in [from, below) that is not already in flight. */
  private nextEligible(from: number, below: number): number | undefined {
    let id = this.opts.spool.nextPending(from);
    while (id !== undefined && id < below && this.inFlight.has(id)) id = this.opts.spool.nextPending(id + 1);
    return id !== undefined && id < below ? id : undefined;
  }

  private send(id: number, via: Via): boolean {
    const fresh = this.fresh.get(id);
    if (fresh) {
      this.fresh.delete(id);
      this.freshBytes -= fresh.json.length;
      this.inFlight.set(id, via);
      void this.opts.publisher.publishPrepared(fresh.topic, fresh.json).then((res) => this.settle(id, via, res));
      return true;
    }
    const r = this.opts.spool.read(id);
    if (!r.ok) return false; // acknowledged or dropped meanwhile, or unreadable (counted by the spool)
    const payload = r.value.payload;
    const nl = payload.indexOf(0x0a);
    if (nl <= 0) {
      // Our own framing, under a valid CRC: only a bug writes this. Drop it rather than stall.
      this.opts.logger.error('spooled record has no topic: dropped', { id });
      this.opts.spool.ack(id);
      return false;
    }
    const topic = payload.toString('utf8', 0, nl);
    const json = payload.subarray(nl + 1);
    this.inFlight.set(id, via);
    void this.opts.publisher.publishPrepared(topic, json).then((res) => this.settle(id, via, res));
    return true;
  }

  private clearFresh(): void {
    this.fresh.clear();
    this.freshBytes = 0;
  }

  /** `<topic>\n<json>` as UTF-8 in the reused frame buffer (valid until the next call), and where the JSON starts. */
  private frameOf(topic: string, json: string): { record: Buffer; jsonAt: number } {
    const worst = (topic.length + 1 + json.length) * UTF8_MAX_PER_UNIT;
    // A rare large message gets a buffer of its own rather than growing the kept one for good.
    const buf = worst <= this.frame.length ? this.frame : Buffer.allocUnsafe(worst);
    let n = buf.write(topic, 0, 'utf8');
    buf[n++] = 0x0a;
    const jsonAt = n;
    n += buf.write(json, n, 'utf8');
    return { record: buf.subarray(0, n), jsonAt };
  }

  private settle(id: number, via: Via, res: Result<void, PublishFailure>): void {
    this.inFlight.delete(id);
    if (res.ok) {
      this.lastPuback = this.opts.clock.now();
      if (this.opts.spool.ack(id)) {
        this.counts.published++;
        if (via === 'replay') this.counts.replayed++;
      }
    } else if (id < this.liveFrom) {
      // Not sent after all (the connection went, or we stopped): the replay cursor takes it again.
      this.replayNext = Math.min(this.replayNext, id);
    } else {
      this.liveNext = Math.min(this.liveNext, id);
    }
    if (this.inFlight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    // After a failure, wait for the next event (reconnect, append, PUBACK) rather than retry in a loop.
    if (res.ok) this.pump();
  }

  private wakeIn(ms: number): void {
    if (this.wake) return;
    this.wake = this.opts.clock.setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, Math.max(1, ms));
  }

  private noteReplayDone(): void {
    if (!this.replay) return;
    for (const via of this.inFlight.values()) if (via === 'replay') return;
    const { since, replayed_at_start } = this.replay;
    this.replay = undefined;
    this.opts.logger.info('spooled telemetry replayed', { records: this.counts.replayed - replayed_at_start, ms: this.opts.clock.now() - since });
  }
}
