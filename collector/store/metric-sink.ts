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

export interface SinkHealth {
  /** The store, without credentials (`influx_v1 http://influx:8086 db=dcim`, `sqlite /var/lib/dcim.sqlite`). */
  target: string;
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
  /** Points handed to `write` that passed validation. */
  points_accepted: number;
  /** Points the store confirmed. */
  points_written: number;
  /** Points refused by validation (bad measurement, tag, timestamp, no writable field). */
  points_invalid: number;
  /** Fields left out of otherwise good points (NaN, ±Infinity, newline in a string …). */
  fields_dropped: number;
  /** Points in batches the store refused with a 4xx: quarantined, not retried. */
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
    points_accepted: 0,
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
