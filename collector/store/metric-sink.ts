import type { MetricPoint } from './metric-point.js';

/**
 * Where points go: InfluxDB 1.x, InfluxDB 2.x/3.x (or anything speaking its write API, such as
 * VictoriaMetrics), or the embedded SQLite store. `write` never blocks or throws: bad points are
 * counted and dropped, delivery happens in the background; `flush` delivers what is buffered.
 */
export interface MetricSink {
  write(points: readonly MetricPoint[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
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
  /** Points dropped because the buffer overflowed during an outage, or still pending at close. */
  points_lost: number;
  batches_written: number;
  write_errors: number;
  retries: number;
  /** Points waiting to be delivered. */
  pending: number;
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
    write_errors: 0,
    retries: 0,
    pending: 0,
  };
}
