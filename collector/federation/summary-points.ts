import { SUMMARY_MEASUREMENT } from '../../contract/storage-schema.js';
import { SiteSummarySchema, type SiteSummary } from '../../contract/summary.js';
import { int, type MetricPoint } from '../store/metric-point.js';

/**
 * A site summary as a stored point (measurement `site_summary`, tags site and window, stamped at
 * the window start): the whole message in `body`, so what was stored reads back as exactly what
 * was sent, and the revision beside it. A revision has the same series and time, so it
 * overwrites the point it revises, in InfluxDB and in the SQLite store alike.
 */
export function summaryPoint(s: SiteSummary): MetricPoint {
  return {
    measurement: SUMMARY_MEASUREMENT,
    tags: { site: s.site, window: s.window },
    fields: { revision: int(s.revision), generated_ms: int(s.generated_ms), window_end_ms: int(s.window_end), body: JSON.stringify(s) },
    ts_ms: s.window_start,
  };
}

/** A stored `body` back to a summary; undefined when it is not one (a hand-edited row, an older schema). */
export function summaryFromBody(body: unknown): SiteSummary | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const r = SiteSummarySchema.safeParse(JSON.parse(body));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
