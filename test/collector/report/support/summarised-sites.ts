import { SummaryTracker } from '../../../../collector/federation/summary-builder.js';
import { KpiEngine } from '../../../../collector/kpi-engine.js';
import type { RecordedPoll } from '../../../../collector/recompute/kpi-replay.js';
import type { Cluster, SiteInventory } from '../../../../contract/inventory.js';
import type { KpiValue } from '../../../../contract/messages.js';
import { loadProfiles } from '../../../../profiles/catalogue.js';
import type { SiteSummary } from '../../../../contract/summary.js';
import { DAY, DEVICES, inventory, JAN1, poll } from '../../support/hand-site.js';

/**
 * Three hand-checked sites (test/collector/support/hand-site.ts) polled every 5 minutes through
 * January and February 2026 (Asia/Shanghai), each site's collector summarising its closed windows
 * as it goes, the way a site collector publishes and stores them:
 * - `hs`: on time;
 * - `hs2` draws 5 % less at its incomer (the best PUE); its collector is down from Feb 10 00:00
 *   to Feb 12 06:00 local and, restarted, republishes the last three days: Feb 9's and Feb 10's
 *   day summaries are generated more than a day after those days ended (late);
 * - `hs3` draws 5 % more (the worst PUE); its collector sends nothing from Feb 20 00:00 to
 *   Feb 22 00:00 and does not look back: Feb 19 and 20 (whose days closed while it was down) have
 *   no day summary (missing).
 * The engine's own figures are taken as of each month's end, for the report to equal.
 */
export const SETTLE = 60_000;
const STEP = 5 * 60_000;
export const FEB1 = JAN1 + 31 * DAY;
export const MAR1 = FEB1 + 28 * DAY;
/** Feb 27 12:00 local: the engine's figures of February in progress are taken then too. */
export const FEB27_NOON = FEB1 + 26 * DAY + 12 * 3_600_000;
export const SITES = ['hs', 'hs2', 'hs3'] as const;
export const CLUSTER: Cluster = { id: 'c1', name: 'Cluster one', targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: [...SITES] };
const FACTOR: Record<string, number> = { hs: 1, hs2: 0.95, hs3: 1.05 };
const HS2_DOWN = [FEB1 + 9 * DAY, FEB1 + 11 * DAY + 6 * 3_600_000] as const;
const HS3_DOWN = [FEB1 + 19 * DAY, FEB1 + 21 * DAY] as const;

export function siteInventories(): SiteInventory[] {
  const base = inventory('pdu_out');
  return SITES.map((id) => ({ ...base, site: { ...base.site, id, name: `Site ${id}` }, devices: base.devices.map((d) => ({ ...d, interval_s: 300 })) }));
}

function sitePoll(site: string, device: string, t: number): RecordedPoll {
  const p = poll(device, t);
  const f = FACTOR[site]!;
  const readings = device === 'in-1' ? p.readings.map((r) => (typeof r.value === 'number' ? { ...r, value: r.value * f } : r)) : p.readings;
  return { ...p, site, readings };
}

export interface Scenario {
  summaries: SiteSummary[];
  /** Engine figures as of each month's end + settle, by month then site (and cluster id). */
  atMonthEnd: Record<'2026-01' | '2026-02', Record<string, KpiValue[]>>;
  /** hs as of Feb 27 12:00 + settle (February in progress). */
  hsFeb27Noon: KpiValue[];
  /** When hs2's collector came back. */
  hs2_back_ms: number;
}

export function summariseTwoMonths(): Scenario {
  const inventories = siteInventories();
  const engine = KpiEngine.create({ inventories, profiles: loadProfiles(), clusters: [CLUSTER], config: { settle_ms: SETTLE } });
  // A short look-back while running (every quarter hour is looked at twice); a restart looks back three days.
  const tracker = (site: string, late_days: number) => new SummaryTracker(engine.siteSource(site)!, { settle_ms: SETTLE, late_days });
  const trackers = new Map<string, SummaryTracker>(SITES.map((s) => [s, tracker(s, 1 / 32)]));
  const summaries: SiteSummary[] = [];
  const atMonthEnd: Scenario['atMonthEnd'] = { '2026-01': {}, '2026-02': {} };
  let hsFeb27Noon: KpiValue[] = [];
  let hs2Restarted = false;
  const publish = (now: number) => {
    for (const site of SITES) {
      if (site === 'hs2' && now >= HS2_DOWN[0] && now < HS2_DOWN[1]) continue;
      if (site === 'hs3' && now >= HS3_DOWN[0] && now < HS3_DOWN[1]) continue;
      if (site === 'hs2' && now >= HS2_DOWN[1] && !hs2Restarted) {
        hs2Restarted = true;
        summaries.push(...tracker('hs2', 3).due(now));
      }
      summaries.push(...trackers.get(site)!.due(now));
    }
  };
  const capture = (month: '2026-01' | '2026-02', at: number) => {
    for (const s of SITES) atMonthEnd[month][s] = engine.evaluate(s, at);
    atMonthEnd[month][CLUSTER.id] = engine.evaluateCluster(CLUSTER.id, at);
  };
  const end = MAR1 + 3_600_000;
  let tick = JAN1 + 15 * 60_000;
  for (let t = JAN1; t <= end; t += STEP) {
    for (const site of SITES) {
      for (const d of DEVICES) {
        const p = sitePoll(site, d, t);
        engine.ingest(site, d, p.ts, p.readings);
      }
    }
    if (t === FEB1) capture('2026-01', FEB1 + SETTLE);
    if (t === MAR1) capture('2026-02', MAR1 + SETTLE);
    if (t === FEB27_NOON) hsFeb27Noon = engine.evaluate('hs', FEB27_NOON + SETTLE);
    while (tick <= t) {
      publish(tick + SETTLE);
      tick += 15 * 60_000;
    }
  }
  return { summaries, atMonthEnd, hsFeb27Noon, hs2_back_ms: HS2_DOWN[1] + SETTLE };
}
