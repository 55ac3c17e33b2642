import type { SiteSummary, SummaryWindow } from '../../contract/summary.js';

/**
 * Reading stored site summaries back (a site collector restoring its month and year at start, the
 * bureau rebuilding its sites after a restart, `dcim report` for a past month): one interface,
 * answered by the SQLite store and by InfluxDB (InfluxQL).
 */
export interface StoredSummaries {
  /**
   * The stored summaries of `site` of one window kind whose window starts in [from_ms, to_ms),
   * oldest first; each window once, at the revision the store holds (the newest written).
   * Rows that do not parse as a summary are skipped and counted in `skipped`.
   */
  summaries(site: string, window: SummaryWindow, from_ms: number, to_ms: number): Promise<SiteSummary[]>;
  /** Sites with at least one stored summary. */
  sites(): Promise<string[]>;
  /** Stored rows skipped because they are not a valid summary. */
  readonly skipped: number;
}
