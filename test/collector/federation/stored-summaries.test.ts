import { describe, expect, it } from 'vitest';
import { newestRevisions, type SummaryRow } from '../../../collector/federation/stored-summaries.js';
import { SummaryTracker } from '../../../collector/federation/summary-builder.js';
import { KpiEngine } from '../../../collector/kpi-engine.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import type { SiteSummary } from '../../../contract/summary.js';
import { day, DAY, inventory, JAN1 } from '../support/hand-site.js';

/** Stored rows → one summary per window, the newest revision; rows that are not that site's summary of that window skipped. */
const engine = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles: loadProfiles() });
for (const p of day()) engine.ingest(p.site, p.device, p.ts, p.readings);
const built = new SummaryTracker(engine.siteSource('hs')!, { settle_ms: engine.settle_ms, late_days: 3 }).due(JAN1 + DAY + 120_000);
const d1 = built.find((s) => s.window === '1d')!;
const row = (s: SiteSummary, over: Partial<SummaryRow> = {}): SummaryRow => ({ site: s.site, window: s.window, ts_ms: s.window_start, body: JSON.stringify(s), ...over });

describe('newestRevisions', () => {
  const cases: { name: string; rows: SummaryRow[]; revisions: number[]; skipped: number }[] = [
    { name: 'one row', rows: [row(d1)], revisions: [d1.revision], skipped: 0 },
    { name: 'two revisions of one window, newest last', rows: [row(d1), row({ ...d1, revision: d1.revision + 5 })], revisions: [d1.revision + 5], skipped: 0 },
    { name: 'two revisions of one window, newest first', rows: [row({ ...d1, revision: d1.revision + 5 }), row(d1)], revisions: [d1.revision + 5], skipped: 0 },
    { name: 'a body that is not JSON', rows: [row(d1), { ...row(d1), body: '{"schema":1,' }], revisions: [d1.revision], skipped: 1 },
    { name: 'a body that is not a string', rows: [{ ...row(d1), body: 42 }], revisions: [], skipped: 1 },
    { name: 'a body of another schema', rows: [{ ...row(d1), body: JSON.stringify({ ...d1, schema: 2 }) }], revisions: [], skipped: 1 },
    { name: 'a body of another site under this site', rows: [row({ ...d1, site: 'other' }, { site: 'hs' })], revisions: [], skipped: 1 },
    { name: 'tags of another site', rows: [row(d1, { site: 'other' })], revisions: [], skipped: 1 },
    { name: 'a body stamped at another time', rows: [row(d1, { ts_ms: d1.window_start + DAY })], revisions: [], skipped: 1 },
    { name: 'a body of another window kind', rows: [row(built.find((s) => s.window === '1h')!, { window: '1d', ts_ms: built.find((s) => s.window === '1h')!.window_start })], revisions: [], skipped: 1 },
  ];
  it.each(cases)('$name', ({ rows, revisions, skipped }) => {
    const why: string[] = [];
    const out = newestRevisions(rows, 'hs', '1d', (w) => why.push(w));
    expect(out.map((s) => s.revision)).toEqual(revisions);
    expect(why.length).toBe(skipped);
  });

  it('several windows come back oldest first', () => {
    const later = { ...d1, window_start: d1.window_start + DAY, window_end: d1.window_end + DAY, period: '2026-01-02' };
    expect(newestRevisions([row(later), row(d1)], 'hs', '1d', () => undefined).map((s) => s.window_start)).toEqual([d1.window_start, later.window_start]);
  });
});
