import { emptySinkStats, type MetricSink } from '../../collector/store/metric-sink.js';
import type { MetricPoint } from '../../collector/store/metric-point.js';

/**
 * A store that only counts what it is given: the benchmarks measure the collector, not a store
 * (bench/collector-ingest.ts measures the store's own cost separately).
 */
export class CountingSink implements MetricSink {
  points = 0;
  write(points: readonly MetricPoint[]): void {
    this.points += points.length;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats() {
    return { ...emptySinkStats(), points_queued: this.points, points_written: this.points };
  }
  health() {
    return { target: 'counting sink', state: 'ok' as const, reason: null, since: null, reachable: true, last_success_ms: null, last_error: null, retry_at_ms: null };
  }
}
