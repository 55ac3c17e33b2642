import { describe, expect, it } from 'vitest';
import { SummaryTracker } from '../../../collector/federation/summary-builder.js';
import { SummarySiteSource } from '../../../collector/federation/summary-source.js';
import { KpiEngine } from '../../../collector/kpi-engine.js';
import type { RecordedPoll } from '../../../collector/recompute/kpi-replay.js';
import { clusterKpis, siteKpis } from '../../../collector/kpi/site-kpis.js';
import type { Cluster, SiteInventory } from '../../../contract/inventory.js';
import type { KpiValue } from '../../../contract/messages.js';
import { SiteSummarySchema, type SiteSummary } from '../../../contract/summary.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { DAY, DEVICES, inventory, JAN1, MIN, poll } from '../support/hand-site.js';

const profiles = loadProfiles();
const SETTLE = 60_000;
/** hs2's UPS is silent from Jan 31 23:30 to Feb 1 01:30 local. */
const GAP_FROM = JAN1 + 30 * DAY + 23.5 * 3_600_000;
const GAP_TO = GAP_FROM + 2 * 3_600_000;
const CLUSTER: Cluster = { id: 'c1', name: 'C1', targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['hs', 'hs2'] };

function sites(): SiteInventory[] {
  const a = inventory('pdu_out');
  const b = inventory('ups_out');
  return [a, { ...b, site: { ...b.site, id: 'hs2' } }];
}

/**
 * Two sites' polls from Jan 30 to Feb 2 (a month closes on the way), every minute; hs2's IT meter
 * (its UPS output, power only: a gap in it is uncovered time) silent for two hours across the
 * turn of the month, its readings delivered late, after the windows closed.
 */
function polls(): { live: RecordedPoll[]; late: RecordedPoll[] } {
  const from = JAN1 + 29 * DAY;
  const to = JAN1 + 32 * DAY + 3 * 3_600_000;
  const live: RecordedPoll[] = [];
  const late: RecordedPoll[] = [];
  for (let t = from; t <= to; t += MIN) {
    for (const d of DEVICES) {
      for (const site of ['hs', 'hs2']) {
        const p = { ...poll(d, t), site };
        if (site === 'hs2' && d === 'ups-1' && t > GAP_FROM && t < GAP_TO) late.push(p);
        else live.push(p);
      }
    }
  }
  return { live, late };
}

const windowed = (vals: readonly KpiValue[]) => vals.filter((v) => v.window !== 'instant');
const key = (v: KpiValue) => `${v.kpi}|${v.window}|${v.basis}`;

function byKey(vals: readonly KpiValue[]): Map<string, KpiValue> {
  return new Map(vals.map((v) => [key(v), v]));
}

describe('site summaries: a bureau holding only summaries computes what one collector computes from all raw telemetry', () => {
  const engine = KpiEngine.create({ inventories: sites(), profiles, clusters: [CLUSTER], config: { settle_ms: SETTLE } });
  const trackers = new Map(['hs', 'hs2'].map((s) => [s, new SummaryTracker(engine.siteSource(s)!, { settle_ms: SETTLE, late_days: 3 })]));
  const bureau = new Map(['hs', 'hs2'].map((s) => [s, new SummarySiteSource(s, 'Asia/Shanghai')]));
  const sent: SiteSummary[] = [];
  const outcomes: Record<string, number> = {};
  const publish = (now: number) => {
    for (const t of trackers.values()) {
      for (const s of t.due(now)) {
        const parsed = SiteSummarySchema.parse(JSON.parse(JSON.stringify(s)));
        sent.push(parsed);
        const o = bureau.get(parsed.site)!.put(parsed);
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }
    }
  };
  const { live, late } = polls();
  let nextTick = live[0]!.ts;
  // Halfway through hs2's UPS gap: what each side says while a meter is silent.
  const MID_GAP = JAN1 + 31 * DAY + 20 * MIN;
  let midGap: { engine: KpiValue[]; bureau: KpiValue[] } | undefined;
  for (const p of live) {
    while (p.ts >= nextTick) {
      publish(nextTick);
      if (nextTick === MID_GAP) midGap = { engine: windowed(engine.evaluate('hs2', MID_GAP)), bureau: windowed(siteKpis(bureau.get('hs2')!, MID_GAP, SETTLE)) };
      nextTick += 5 * MIN;
    }
    engine.ingest(p.site, p.device, p.ts, p.readings);
  }
  const beforeLate = live.at(-1)!.ts + MIN;
  publish(beforeLate);
  const revisionsBefore = sent.length;
  for (const p of late) engine.ingest(p.site, p.device, p.ts, p.readings);
  const NOW = beforeLate + MIN;
  publish(NOW);

  it('publishes every closed window once, and the windows late data changed again with a higher revision', () => {
    const kinds = (w: string) => sent.filter((s) => s.window === w && s.site === 'hs').length;
    // Jan 30 00:00 → Feb 2 03:00 local: 3 days + 3 h of quarter hours (the first quarter starts at the first poll).
    expect(kinds('1d')).toBe(3);
    expect(kinds('1mo')).toBe(1);
    expect(sent.find((s) => s.window === '1mo')).toMatchObject({ period: '2026-01', window_start: JAN1, window_end: JAN1 + 31 * DAY });
    const revised = sent.slice(revisionsBefore);
    // Late readings of hs2's UPS: the quarter hours of the gap and the hours, the day and the month around them.
    expect(revised.every((s) => s.site === 'hs2')).toBe(true);
    expect(revised.map((s) => s.window).sort()).toEqual(expect.arrayContaining(['15m', '1h', '1d', '1mo']));
    for (const s of revised) {
      const first = sent.find((x) => x.site === s.site && x.window === s.window && x.window_start === s.window_start)!;
      expect(s.revision).toBeGreaterThan(first.revision);
    }
    // Before the late data: the gap's windows were sent while the UPS was silent (its silent tail
    // at its last rate) and again once it spoke (the tail became uncovered time).
    const id = (s: SiteSummary) => `${s.site}|${s.window}|${s.window_start}`;
    const early = sent.slice(0, revisionsBefore).filter((s, i, all) => all.findIndex((x) => id(x) === id(s)) !== i);
    expect(early.length).toBeGreaterThan(0);
    for (const s of early) expect(s.site === 'hs2' && s.window_end > GAP_FROM && s.window_start < GAP_TO).toBe(true);
    // Every republication reached the bureau as a revision.
    expect(outcomes.revised).toBe(sent.length - new Set(sent.map(id)).size);
  });

  it("gives each site's figures from its summaries as its own engine evaluates them", () => {
    for (const site of ['hs', 'hs2']) {
      const fromSummaries = byKey(windowed(siteKpis(bureau.get(site)!, NOW, SETTLE)));
      const fromEngine = windowed(engine.evaluate(site, NOW));
      expect(fromEngine.length).toBeGreaterThan(15);
      for (const v of fromEngine) expect(fromSummaries.get(key(v)), `${site} ${key(v)}`).toEqual(v);
    }
  });

  it('agrees while a meter is silent: its tail at its last rate, substituted within the bound', () => {
    expect(midGap).toBeDefined();
    const bureauValues = byKey(midGap!.bureau);
    expect(midGap!.engine.find((v) => v.kpi === 'pue' && v.window === '15m')).toMatchObject({ ok: false, quality: 'insufficient' });
    // Jan 31: the silent UPS's last half hour is filled at its last rate (3 lines × 34 kW × 0.5 h).
    const day = midGap!.engine.find((v) => v.kpi === 'pue' && v.window === '1d')!;
    expect(day).toMatchObject({ ok: true, window_start: JAN1 + 30 * DAY });
    expect(day.inputs!.it_substituted_kwh).toBeCloseTo(51, 0);
    for (const v of midGap!.engine) expect(bureauValues.get(key(v)), key(v)).toEqual(v);
  });

  it('rolls the cluster up to the same figures, pooled and mean of sites, compute included', () => {
    const fromSummaries = byKey(clusterKpis(CLUSTER, [bureau.get('hs')!, bureau.get('hs2')!], [], NOW, SETTLE));
    const fromEngine = engine.evaluateCluster('c1', NOW).filter((v) => !v.kpi.endsWith('_live_ratio') && v.kpi !== 'pue_live');
    const compared = fromEngine.filter((v) => !(v.window === 'instant' && (v.kpi === 'pue' || v.kpi.startsWith('green_share'))));
    expect(compared.length).toBeGreaterThan(25);
    for (const v of compared) expect(fromSummaries.get(key(v)), key(v)).toEqual(v);
    // The late readings were needed: hs2's January is measured, not substituted.
    expect(fromSummaries.get('pue|1mo|energy_weighted')).toMatchObject({ ok: true, quality: 'measured' });
  });

  it('takes revisions in order: the same content is unchanged, an older revision is stale and changes nothing', () => {
    const src = new SummarySiteSource('hs2', 'Asia/Shanghai');
    const day = sent.filter((s) => s.site === 'hs2' && s.window === '1d' && s.window_start === JAN1 + 30 * DAY);
    expect(day.length).toBeGreaterThanOrEqual(2);
    const [first, second] = [day[0]!, day.at(-1)!];
    expect(src.put(second)).toBe('stored');
    expect(src.put(second)).toBe('unchanged');
    expect(src.put({ ...second, revision: second.revision + 5, generated_ms: second.generated_ms + 5 })).toBe('unchanged');
    expect(src.put(first)).toBe('stale');
    expect(src.put({ ...second, groups: { ...second.groups, it: { ...second.groups.it, kwh: 1 } } })).toBe('stale');
    expect(src.revisionOf('1d', second.window_start)).toBe(second.revision);
    expect(src.groupSums({ start: second.window_start, end: second.window_end }).it.kwh).toBe(second.groups.it.kwh);
  });
});
