import type { Logger, TelemetryMessage } from '../contract/index.js';
import { topics } from '../contract/index.js';
import type { Publisher } from './publisher.js';

/**
 * Where finished telemetry messages go. The scheduler's sink hands every message here and
 * never waits for the broker. Issue 4 puts the durable disk spool behind this interface
 * (delete on PUBACK, paced replay); until then DirectOutbox publishes while connected and
 * counts, rather than hoards, what it cannot send.
 */
export interface TelemetryOutbox {
  submit(message: TelemetryMessage): void;
  /** Resolves once everything submitted so far is acknowledged or given up. */
  drain(): Promise<void>;
  stats(): OutboxStats;
}

export interface OutboxStats {
  published: number;
  dropped_offline: number;
  failed: number;
  pending: number;
}

export class DirectOutbox implements TelemetryOutbox {
  private readonly pending = new Set<Promise<void>>();
  private readonly counts = { published: 0, dropped_offline: 0, failed: 0 };
  private offlineDropsLogged = false;

  constructor(private readonly publisher: Publisher, private readonly logger: Logger) {
    publisher.onConnect(() => (this.offlineDropsLogged = false));
  }

  submit(message: TelemetryMessage): void {
    const p = this.publisher.publish(topics.telemetry(message.site, message.device), message).then((r) => {
      if (r.ok) this.counts.published++;
      else if (r.reason.code === 'offline') {
        this.counts.dropped_offline++;
        if (!this.offlineDropsLogged) {
          this.offlineDropsLogged = true;
          this.logger.warn('broker unreachable: telemetry dropped until it reconnects (no spool yet)', { device: message.device, seq: message.seq });
        }
      } else {
        this.counts.failed++;
        this.logger.error('telemetry not published', { device: message.device, seq: message.seq, code: r.reason.code, message: r.reason.message });
      }
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  stats(): OutboxStats {
    return { ...this.counts, pending: this.pending.size };
  }
}
