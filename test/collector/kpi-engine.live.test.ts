import { describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { sitePowerModel } from '../../collector/kpi/power-meters.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../../contract/inventory.js';
import { memoryLogger } from '../../shared/log.js';
import { KpiMessageSchema, type KpiMessage, type KpiValue } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { topics } from '../../contract/topics.js';

/**
 * The live figures through the collector's telemetry gate and KPI engine, time driven by a
 * ManualClock: a site with one incomer, a 35 kW green feed, 5 kW of PV behind the incomer and 31
 * PDUs of about 3 kW, all polled every 10 s. The truth is known at every instant, so each live
 * figure is checked against it while meters fall silent and come back.
 */
const PROFILES = loadProfiles();
const T0 = Date.UTC(2026, 0, 5, 2, 0, 0);
const POLL = 10_000;
const MIN = 60_000;
const pdu = (i: number) => `pdu-${String(i).padStart(2, '0')}`;
const PDUS = Array.from({ length: 31 }, (_, i) => pdu(i + 1));
const modbus = (unit_id: number) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id });

function site(id: string): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id, name: id, pue_it_level: 'pdu_out' },
    halls: [{ id: 'h1' }],
    racks: PDUS.map((_, i) => ({ id: `r${i + 1}`, hall: 'h1', rated_kw: 6 })),
    devices: [
      { id: 'in-1', profile: 'eastron-sdm630', address: modbus(1), interval_s: 10, meter: { role: 'facility_in', rated_kw: 250 } },
      { id: 'feed-1', profile: 'wattnode-wnd', address: modbus(2), interval_s: 10, meter: { role: 'green_feed', rated_kw: 100 } },
      { id: 'pv-1', profile: 'sunspec-inverter', address: modbus(3), interval_s: 10, meter: { role: 'green_onsite', behind_meter: true, rated_kw: 10 } },
      ...PDUS.map((d, i) => ({ id: d, profile: 'apc-rpdu2', rack: `r${i + 1}`, address: { protocol: 'snmp', host: '127.0.0.1', community: d }, interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: 6 } })),
    ],
  });
}

/** True power at `t`: PDU i draws 2.9–3.2 kW and drifts up 1 % per 10 min; facility = 1.25 × IT; feed 35 kW, PV 5 kW. */
function truth(t: number) {
  const drift = 1 + (0.01 * (t - T0)) / (10 * MIN);
  const it: Record<string, number> = Object.fromEntries(PDUS.map((d, i) => [d, (2_900 + 10 * i) * drift]));
  const it_w = Object.values(it).reduce((s, w) => s + w, 0);
  const facility_w = 1.25 * it_w;
  const feed_w = 35_000;
  const pv_w = 5_000;
  return { it, it_w, facility_w, feed_w, pv_w, incomer_w: facility_w - feed_w - pv_w, pue: facility_w / it_w, green: (feed_w + pv_w) / facility_w };
}

const CLASS: Record<string, string> = { 'in-1': 'meter', 'feed-1': 'meter', 'pv-1': 'pv_inverter' };

function setup() {
  const clock = new ManualClock(T0);
  const inventories = [site('s31'), site('s31b')];
  const logger = memoryLogger();
  const sink = new SqliteSink({ path: ':memory:', clock, logger });
  const msgs: KpiMessage[] = [];
  const collector = new Collector({
    id: 'live',
    inventories,
    clusters: [{ id: 'bureau', name: 'Bureau', targets: { pue: 1.3, rack_occupancy: 0.7, green_share: 0.5 }, sites: ['s31', 's31b'] }],
    profiles: PROFILES,
    mqtt: { url: 'mqtt://127.0.0.1:1' },
    sink,
    clock,
    logger,
    kpiIntervalMs: 5000,
    onKpi: (m) => msgs.push(m),
  });
  const points = new Map(sitePowerModel(inventories[0]!, PROFILES).meters.map((m) => [m.device, m.power_point]));
  let seq = 0;
  const poll = (siteId: string, device: string, power_w: number) => {
    const msg = {
      schema: 1,
      agent: `edge-${siteId}`,
      site: siteId,
      device,
      class: CLASS[device] ?? 'pdu',
      seq: ++seq,
      ts: clock.now(),
      readings: [{ point: points.get(device)!, value: Math.round(power_w * 10) / 10, unit: 'W', quality: 'good' }],
      poll: { ms: 20, requests: 1, retries: 0 },
    };
    collector.ingest(topics.telemetry(siteId, `edge-${siteId}`, device), Buffer.from(JSON.stringify(msg)));
  };
  /** Poll every meter of both sites every 10 s until `until`, except the silent ones of s31. */
  const run = (until: number, silent: ReadonlySet<string> = new Set()) => {
    while (clock.now() < until) {
      clock.advance(POLL);
      const t = truth(clock.now());
      for (const s of ['s31', 's31b']) {
        const quiet = s === 's31' ? silent : new Set<string>();
        const all: [string, number][] = [['in-1', t.incomer_w], ['feed-1', t.feed_w], ['pv-1', t.pv_w], ...PDUS.map((d): [string, number] => [d, t.it[d]!])];
        for (const [d, w] of all) if (!quiet.has(d)) poll(s, d, w);
      }
    }
  };
  const evaluate = () => {
    collector.evaluateKpis(clock.now());
    const site = msgs.findLast((m) => m.site === 's31')!;
    const cluster = msgs.findLast((m) => m.site === 'bureau')!;
    expect(KpiMessageSchema.parse(site)).toEqual(site);
    expect(KpiMessageSchema.parse(cluster)).toEqual(cluster);
    const pick = (m: KpiMessage, kpi: string, basis?: string): KpiValue => m.kpis.find((k) => k.kpi === kpi && k.window === 'instant' && (basis === undefined || k.basis === basis))!;
    return { pue: pick(site, 'pue_live'), green: pick(site, 'green_share_live_ratio'), cluster: pick(cluster, 'pue_live', 'power_weighted'), clusterMean: pick(cluster, 'pue_live', 'mean_of_sites'), clusterGreen: pick(cluster, 'green_share_live_ratio', 'power_weighted') };
  };
  return { clock, collector, sink, run, evaluate };
}

describe('live PUE and live green share through the KPI engine, time on a ManualClock', () => {
  it('1 of 31 PDUs silent: carried and named, estimated and close to the truth; unknown past 15 min or past 10 % of IT; the 35 kW green feed counts', async () => {
    const { clock, collector, sink, run, evaluate } = setup();
    try {
      // All meters fresh: measured, equal to the truth.
      run(T0 + 10 * MIN);
      let v = evaluate();
      let t = truth(clock.now());
      expect(v.pue).toMatchObject({ ok: true, quality: 'measured', inputs: { stale_meter_count: 0, carried_ratio: 0 } });
      expect(v.pue.value).toBeCloseTo(t.pue, 3);
      expect(v.pue.stale_meters).toBeUndefined();
      // Green now: (35 kW feed + 5 kW PV) / facility, not 0 % for lack of PV-only supply.
      expect(v.green).toMatchObject({ ok: true, quality: 'measured', basis: 'power_metered', inputs: { green_feed_power_w: 35_000, green_onsite_power_w: 5_000 } });
      expect(v.green.value).toBeCloseTo(t.green, 3);
      expect(v.green.value).toBeGreaterThan(0.25);
      expect(v.cluster).toMatchObject({ ok: true, quality: 'measured' });

      // pdu-07 falls silent; 6 minutes later it is stale (5 min) and carried at its last value.
      const lastSeen = clock.now();
      run(lastSeen + 6 * MIN, new Set(['pdu-07']));
      v = evaluate();
      t = truth(clock.now());
      expect(v.pue).toMatchObject({ ok: true, quality: 'estimated', inputs: { stale_meter_count: 1 } });
      expect(v.pue.stale_meters).toEqual([{ device: 'pdu-07', role: 'it', last_ts_ms: lastSeen, power_w: Math.round(truth(lastSeen).it['pdu-07']! * 10) / 10, carried: true }]);
      expect(v.pue.inputs!.carried_ratio).toBeCloseTo(1 / 31, 2);
      // The carried 3 kW is 0.6 % behind pdu-07's drift: the PUE stays within 0.1 % of the truth.
      expect(Math.abs(v.pue.value! / t.pue - 1)).toBeLessThan(0.001);
      // The cluster roll-up is estimated too, names the meter with its site, and keeps a value.
      expect(v.cluster).toMatchObject({ ok: true, quality: 'estimated', stale_meters: [{ site: 's31', device: 'pdu-07', carried: true }] });
      expect(v.clusterMean).toMatchObject({ ok: true, quality: 'estimated' });
      // The green share does not need the PDUs.
      expect(v.green).toMatchObject({ ok: true, quality: 'measured' });

      // The store holds the estimated figure with its count of stale meters.
      await sink.flush();
      expect(sink.latestKpis('s31').find((k) => k.kpi === 'pue_live')).toMatchObject({ quality: 'estimated', inputs: { stale_meter_count: 1 } });

      // Past 5 + 15 minutes of silence: unknown, not a value from a 20-minute-old reading.
      run(lastSeen + 20 * MIN, new Set(['pdu-07']));
      expect(evaluate().pue).toMatchObject({ ok: true, quality: 'estimated' });
      run(lastSeen + 20 * MIN + POLL, new Set(['pdu-07']));
      v = evaluate();
      expect(v.pue).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', reason_code: 'DCIM_E_KPI_STALE', stale_meters: [{ device: 'pdu-07', carried: false, last_ts_ms: lastSeen }] });
      expect(v.pue.reason).toMatch(/^DCIM_E_KPI_STALE: no fresh power from pdu-07 \(silent 20 min\); a stale meter is carried for at most 15 min/);
      expect(v.pue.value).toBeUndefined();
      expect(v.cluster).toMatchObject({ ok: false, quality: 'insufficient', reason: 'DCIM_E_KPI_INSUFFICIENT: no live value from site s31', stale_meters: [{ site: 's31', device: 'pdu-07', carried: false }] });

      // pdu-07 back: measured again at once.
      run(clock.now() + POLL);
      v = evaluate();
      expect(v.pue).toMatchObject({ ok: true, quality: 'measured' });
      expect(v.pue.value).toBeCloseTo(truth(clock.now()).pue, 3);

      // Four PDUs silent (≈ 12.6 % of IT power): more than 10 % would be carried → unknown.
      const quiet = new Set(['pdu-28', 'pdu-29', 'pdu-30', 'pdu-31']);
      run(clock.now() + 6 * MIN, quiet);
      v = evaluate();
      expect(v.pue).toMatchObject({ ok: false, quality: 'insufficient', inputs: { stale_meter_count: 4 } });
      expect(v.pue.reason).toMatch(/^DCIM_E_KPI_STALE: no fresh power from pdu-28, pdu-29, pdu-30, pdu-31; their last power would be 13\.\d % of IT power, at most 10 % is carried$/);
      expect(v.pue.stale_meters!.map((s) => s.device)).toEqual(['pdu-31', 'pdu-30', 'pdu-29', 'pdu-28']);
    } finally {
      await collector.stop();
      await sink.close();
    }
  });

  it('the silent green feed (35 kW, 87.5 % of the green supply, 30 % of facility) is not carried: green now and the live PUE are unknown', async () => {
    const { clock, collector, sink, run, evaluate } = setup();
    run(T0 + 10 * MIN);
    run(clock.now() + 6 * MIN, new Set(['feed-1']));
    const v = evaluate();
    await collector.stop();
    await sink.close();
    expect(v.green).toMatchObject({ ok: false, quality: 'insufficient', stale_meters: [{ device: 'feed-1', role: 'green_feed', power_w: 35_000, carried: false }] });
    expect(v.green.reason).toMatch(/^DCIM_E_KPI_STALE: no fresh power from feed-1; their last power would be \d+\.\d % of facility power and 87\.5 % of green power/);
    // The feed is a facility input too: 35 kW of ~118 kW facility is far beyond 10 %.
    expect(v.pue).toMatchObject({ ok: false, quality: 'insufficient' });
    expect(v.clusterGreen).toMatchObject({ ok: false, reason: 'DCIM_E_KPI_INSUFFICIENT: no live value from site s31' });
  });
});
