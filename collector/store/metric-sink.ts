import type { MetricPoint } from './metric-point.js';

/**
 * Where points go: InfluxDB 1.x, InfluxDB 2.x/3.x (or anything speaking its write API, such as
 * VictoriaMetrics), or the embedded SQLite store. `write` never blocks or throws: bad points are
 * counted and dropped, delivery happens in the background; `flush` delivers what is buffered.
 */
export interface MetricSink {
  /** Open files (the store spool, the SQLite file) and send what a previous run left; throws a DcimError when they are unusable. Optional: `write` opens lazily. */
  start?(): void;
  write(points: readonly MetricPoint[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
  /** Whether the store answers, for /healthz. */
  health(): SinkHealth;
}

/**
 * What the store does with our writes right now:
 * - ok: the last request was taken (or none was needed yet);
 * - unreachable: no answer (refused connection, unknown host, timeout, 429/5xx); points wait;
 * - refusing: the store answers but will not take the points (database or bucket not found,
 *   credentials refused, a batch refused with a 4xx); points wait or are quarantined;
 * - unwritable: the local side cannot hold them (spool directory unusable, disk full, SQLite error).
 */
export type SinkState = 'ok' | 'unreachable' | 'refusing' | 'unwritable';

export interface SinkHealth {
  /** The store, without credentials (`influx_v1 http://influx:8086 db=dcim`, `sqlite /var/lib/dcim.sqlite`). */
  target: string;
  state: SinkState;
  /** Why the state is not ok (the store's own words where it gave them); null when ok. */
  reason: string | null;
  /** When the current state began; null before the first request. */
  since: number | null;
  /** False from a failed write (network, 429, 5xx) until the next answer. */
  reachable: boolean;
  /** When the store last took a batch; null before the first. */
  last_success_ms: number | null;
  last_error: string | null;
  /** When the next attempt is due while unreachable. */
  retry_at_ms: number | null;
}

/** The durable spool in front of a store (store.spool), when configured. */
export interface SinkSpoolStats {
  dir: string;
  /** Bytes of segment files on disk. */
  bytes: number;
  segments: number;
  /** Age of the oldest batch waiting; 0 when none. */
  oldest_age_ms: number;
  /** Batches dropped by the spool's max_bytes / max_age_h bounds (their points are in points_lost). */
  dropped_records: number;
  /** Batches the disk refused (full, I/O error). */
  refused_records: number;
  /** Batches that failed their CRC when read back. */
  unreadable_records: number;
  /** Batches found at start, left by a previous run. */
  recovered_records: number;
  fsync_errors: number;
}

export interface SinkStats {
  /** Points handed to `write` that passed validation and were queued for the store (memory or spool). */
  points_queued: number;
  /** Points the store confirmed it took (HTTP 204, a committed SQLite transaction): the only "written". */
  points_written: number;
  /** Points refused by validation (bad measurement, tag, timestamp, no writable field). */
  points_invalid: number;
  /** Fields left out of otherwise good points (NaN, ±Infinity, newline in a string …). */
  fields_dropped: number;
  /** Points in batches the store refused with a 4xx that resending cannot fix (bad line protocol, type conflict): quarantined, not retried. */
  points_rejected: number;
  /** Points dropped: memory buffer or spool bound overflowed during an outage, disk refused, or still pending at close without a spool. */
  points_lost: number;
  batches_written: number;
  /** Batches (or parts of them) quarantined. */
  batches_rejected: number;
  /** 413 answers that halved the request size. */
  batches_split: number;
  write_errors: number;
  retries: number;
  /** Points waiting to be delivered (in memory or in the spool). */
  pending: number;
  spool?: SinkSpoolStats;
}

export function emptySinkStats(): SinkStats {
  return {
    points_queued: 0,
    points_written: 0,
    points_invalid: 0,
    fields_dropped: 0,
    points_rejected: 0,
    points_lost: 0,
    batches_written: 0,
    batches_rejected: 0,
    batches_split: 0,
    write_errors: 0,
    retries: 0,
    pending: 0,
  };
}
