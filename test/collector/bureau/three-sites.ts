import { SummaryTracker } from '../../../collector/federation/summary-builder.js';
import { KpiEngine } from '../../../collector/kpi-engine.js';
import type { RecordedPoll } from '../../../collector/recompute/kpi-replay.js';
import type { Cluster, SiteInventory } from '../../../contract/inventory.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { SiteSummarySchema, type SiteSummary } from '../../../contract/summary.js';
import { DAY, DEVICES, inventory, JAN1, MIN, poll } from '../support/hand-site.js';

/**
 * Three hand-checked sites (two metering IT at the PDUs, one at the UPS) polled every minute from
 * Jan 31 00:00 to Feb 1 02:00 local (a month closes on the way), one engine fed all their raw
 * telemetry, and each site's summaries as its collector would publish them: the bureau's input
 * and the figures it must reproduce.
 */
export const SETTLE = 60_000;
export const SITES = ['hs', 'hs2', 'hs3'] as const;
export const CLUSTER: Cluster = { id: 'c1', name: 'C1', targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: [...SITES] };
export const FROM = JAN1 + 30 * DAY;
export const TO = JAN1 + 31 * DAY + 2 * 3_600_000;
/** The instant the figures are compared at: a whole quarter hour after the last poll. */
export const NOW = TO + 15 * MIN;

function sites(): SiteInventory[] {
  const a = inventory('pdu_out');
  const b = inventory('ups_out');
  return [a, { ...b, site: { ...b.site, id: 'hs2' } }, { ...a, site: { ...a.site, id: 'hs3' } }];
}

export interface ThreeSites {
  engine: KpiEngine;
  trackers: Map<string, SummaryTracker>;
  /** Every summary published up to NOW, in order, as it crossed the wire. */
  sent: SiteSummary[];
  /** Feed `site`'s polls from TO to `until` and return the summaries due at `until`. */
  extend(site: string, until: number): SiteSummary[];
}

export function threeSites(): ThreeSites {
  const engine = KpiEngine.create({ inventories: sites(), profiles: loadProfiles(), clusters: [CLUSTER], config: { settle_ms: SETTLE } });
  const trackers = new Map(SITES.map((s) => [s as string, new SummaryTracker(engine.siteSource(s)!, { settle_ms: SETTLE, late_days: 3 })]));
  const sent: SiteSummary[] = [];
  const due = (now: number, only?: string) => {
    const out: SiteSummary[] = [];
    for (const [site, t] of trackers) if (!only || only === site) for (const s of t.due(now)) out.push(SiteSummarySchema.parse(JSON.parse(JSON.stringify(s))));
    return out;
  };
  const polls: RecordedPoll[] = [];
  for (let t = FROM; t <= TO; t += MIN) for (const d of DEVICES) for (const site of SITES) polls.push({ ...poll(d, t), site });
  let nextTick = FROM + 5 * MIN;
  for (const p of polls) {
    while (p.ts >= nextTick) {
      sent.push(...due(nextTick));
      nextTick += 5 * MIN;
    }
    engine.ingest(p.site, p.device, p.ts, p.readings);
  }
  sent.push(...due(NOW));
  let fed = TO;
  return {
    engine,
    trackers,
    sent,
    extend(site, until) {
      for (let t = fed + MIN; t <= until; t += MIN) for (const d of DEVICES) engine.ingest(site, d, t, poll(d, t).readings);
      fed = until;
      return due(until, site);
    },
  };
}
