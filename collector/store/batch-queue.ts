/**
 * Sealed batches of line-protocol lines waiting for the store, oldest first. The writer sends
 * the oldest and acknowledges it once the store has taken (or refused) all of it. Two kinds:
 * in memory (bounded by lines; an outage longer than the bound loses the oldest, counted) and on
 * disk (spool-batch-queue.ts: survives outages and restarts, bounded by bytes and age).
 */
import type { SinkSpoolStats } from './metric-sink.js';

export interface QueuedBatch {
  id: number;
  lines: readonly string[];
}

export interface PushResult {
  /** Lines of this batch the queue could not take (disk full), now lost. */
  refused_lines: number;
  /** Older lines dropped to make room (memory bound, spool bytes or age bound). */
  dropped_lines: number;
}

export interface QueueStats {
  kind: 'memory' | 'spool';
  batches: number;
  lines: number;
  /** Set for the spool: its own counters (bytes on disk, drops, fsyncs, recovery). */
  spool?: SinkSpoolStats;
}

export interface BatchQueue {
  /** Survives a restart: what is left at close is sent by the next run, not lost. */
  readonly durable: boolean;
  /** Take the directory and recover (spool); throws a DcimError when it is unusable. */
  open(): void;
  push(lines: readonly string[]): PushResult;
  /** The oldest batch, or undefined. Lines found unreadable on disk are reported by `lost()`. */
  peek(): QueuedBatch | undefined;
  ack(id: number): void;
  /**
   * Drop up to `lines` of the oldest lines, never from the batch `keep` (in flight). Memory only:
   * the spool bounds itself. Returns how many were dropped.
   */
  trim(lines: number, keep?: number): number;
  /** Lines lost inside the queue since the last call (spool bounds applied later, unreadable records). */
  lost(): number;
  stats(): QueueStats;
  close(): Promise<void>;
}

export class MemoryBatchQueue implements BatchQueue {
  readonly durable = false;
  private readonly batches: { id: number; lines: string[] }[] = [];
  private nextId = 0;
  private count = 0;

  open(): void {}

  push(lines: readonly string[]): PushResult {
    if (lines.length > 0) {
      this.batches.push({ id: this.nextId++, lines: [...lines] });
      this.count += lines.length;
    }
    return { refused_lines: 0, dropped_lines: 0 };
  }

  peek(): QueuedBatch | undefined {
    return this.batches[0];
  }

  ack(id: number): void {
    const i = this.batches.findIndex((b) => b.id === id);
    if (i < 0) return;
    this.count -= this.batches[i]!.lines.length;
    this.batches.splice(i, 1);
  }

  trim(lines: number, keep?: number): number {
    let dropped = 0;
    for (let i = 0; i < this.batches.length && dropped < lines; ) {
      const b = this.batches[i]!;
      if (b.id === keep) {
        i++;
        continue;
      }
      const n = Math.min(b.lines.length, lines - dropped);
      b.lines.splice(0, n);
      dropped += n;
      this.count -= n;
      if (b.lines.length === 0) this.batches.splice(i, 1);
    }
    return dropped;
  }

  lost(): number {
    return 0;
  }

  stats(): QueueStats {
    return { kind: 'memory', batches: this.batches.length, lines: this.count };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
