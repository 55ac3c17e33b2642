import { encodePoint } from '../../../collector/store/line-protocol.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { emptySinkStats, type MetricSink, type SinkHealth, type SinkStats } from '../../../collector/store/metric-sink.js';

/** A sink that keeps every line it is given, in order, encoded exactly as InfluxDB would receive it. */
export class RecordingSink implements MetricSink {
  readonly lines: string[] = [];
  private readonly counters: SinkStats = emptySinkStats();

  write(points: readonly MetricPoint[]): void {
    for (const p of points) {
      const r = encodePoint(p);
      if (r.ok) {
        this.lines.push(r.value.line);
        this.counters.points_queued++;
        this.counters.points_written++;
      } else {
        this.counters.points_invalid++;
      }
    }
  }

  /** Lines of one measurement. */
  of(measurement: string): string[] {
    return this.lines.filter((l) => l.startsWith(`${measurement},`) || l.startsWith(`${measurement} `));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  health(): SinkHealth {
    return { target: 'recording', state: 'ok', reason: null, since: null, reachable: true, last_success_ms: null, last_error: null, retry_at_ms: null };
  }
}
