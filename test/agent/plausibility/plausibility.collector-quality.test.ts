import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema, type DeviceProfile, type KpiMessage, type KpiValue, type Reading } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { PlausibilityChecker } from '../../../agent/plausibility/plausibility.js';

/**
 * What the collector makes of readings the agent judged: polls of ten PDUs and an incomer go
 * through the agent's PlausibilityChecker (the apc-rpdu2 and eastron-sdm630 profiles) and then
 * through the collector's telemetry gate and KPI engine, time on a ManualClock. A PDU whose
 * device power contradicts its phases is published bad: the live PUE treats it as a silent
 * meter (carried, then unknown), never as 1 MW of IT load; a stuck PDU is uncertain and the
 * grade drops to estimated.
 */
const PROFILES = loadProfiles();
const T0 = Date.UTC(2026, 0, 5, 2, 0, 0);
const POLL = 10_000;
const MIN = 60_000;
const PDUS = Array.from({ length: 10 }, (_, i) => `pdu-${String(i + 1).padStart(2, '0')}`);
const PDU_W = 3_000;
const INCOMER_W = 1.25 * PDU_W * PDUS.length;

const inventory = SiteInventorySchema.parse({
  site: { id: 's1', name: 's1', pue_it_level: 'pdu_out' },
  halls: [{ id: 'h1' }],
  racks: PDUS.map((_, i) => ({ id: `r${i + 1}`, hall: 'h1', rated_kw: 6 })),
  devices: [
    { id: 'in-1', profile: 'eastron-sdm630', address: { protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id: 1 }, interval_s: 10, meter: { role: 'facility_in', rated_kw: 250 } },
    ...PDUS.map((d, i) => ({ id: d, profile: 'apc-rpdu2', rack: `r${i + 1}`, address: { protocol: 'snmp', host: '127.0.0.1', community: d }, interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: 6 } })),
  ],
});

/** An APC PDU's poll as its decoder returns it: device power and three phases of 230 V at PF 0.95. */
function pduPoll(device_w: number, phase_total_w = device_w): Reading[] {
  const rows = [1, 2, 3].flatMap((p): Reading[] => {
    const index = { phase: String(p) };
    const w = Math.round(phase_total_w / 3 / 10) * 10;
    return [
      { point: 'phase_current_a', unit: 'A', index, value: Math.round((w / 230 / 0.95) * 10) / 10, quality: 'good' },
      { point: 'phase_voltage_v', unit: 'V', index, value: 230, quality: 'good' },
      { point: 'phase_power_w', unit: 'W', index, value: w, quality: 'good' },
    ];
  });
  return [{ point: 'active_power_w', unit: 'W', value: device_w, quality: 'good' }, ...rows];
}

function setup() {
  const clock = new ManualClock(T0);
  const logger = memoryLogger();
  const msgs: KpiMessage[] = [];
  const collector = new Collector({ id: 'c', inventories: [inventory], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink: new SqliteSink({ path: ':memory:', clock, logger }), clock, logger, kpiIntervalMs: 5000, onKpi: (m) => msgs.push(m) });
  // A stuck value only shows on a point the profile marks live: this PDU model's device power is.
  const apc = PROFILES.get('apc-rpdu2') as DeviceProfile & { protocol: 'snmp' };
  const liveApc = { ...apc, points: apc.points.map((p) => (p.name === 'active_power_w' ? { ...p, live: true, stuck_polls: 3 } : p)) } as DeviceProfile;
  const checkers = new Map<string, PlausibilityChecker>([['in-1', new PlausibilityChecker(PROFILES.get('eastron-sdm630') as DeviceProfile)], ...PDUS.map((d): [string, PlausibilityChecker] => [d, new PlausibilityChecker(liveApc)])]);
  let seq = 0;
  const published = new Map<string, Reading[]>();
  const send = (device: string, readings: Reading[]) => {
    const judged = (checkers.get(device) as PlausibilityChecker).check(readings).readings;
    published.set(device, judged);
    const msg = { schema: 1, agent: 'edge', site: 's1', device, class: device === 'in-1' ? 'meter' : 'pdu', seq: ++seq, ts: clock.now(), readings: judged, poll: { ms: 20, requests: 1, retries: 0 } };
    collector.ingest(topics.telemetry('s1', 'edge', device), Buffer.from(JSON.stringify(msg)));
  };
  /** Every 10 s until `until`: the incomer, and each PDU's poll from `pdu` (default: honest 3 kW with a little movement). */
  const run = (until: number, pdu: (device: string, k: number) => Reading[] = (_d, k) => pduPoll(PDU_W + (k % 2) * 10)) => {
    let k = 0;
    while (clock.now() < until) {
      clock.advance(POLL);
      k++;
      send('in-1', [{ point: 'active_power_w', unit: 'W', value: INCOMER_W + (k % 2) * 100, quality: 'good' }]);
      for (const d of PDUS) send(d, pdu(d, k));
    }
  };
  const livePue = (): KpiValue => {
    collector.evaluateKpis(clock.now());
    return msgs.findLast((m) => m.site === 's1')!.kpis.find((k) => k.kpi === 'pue_live' && k.window === 'instant')!;
  };
  return { clock, run, livePue, last: (device: string) => published.get(device) ?? [] };
}

describe('implausible readings through the collector', () => {
  it('a PDU whose power contradicts its phases is missing to the live PUE: carried and named, then unknown; never 1 MW of IT', () => {
    const { clock, run, livePue, last } = setup();
    run(T0 + 5 * MIN);
    expect(livePue()).toMatchObject({ ok: true, quality: 'measured' });

    // pdu-04 reports 1 MW on the device while its phases carry 3 kW: bad, without the value.
    const liar = (d: string, k: number) => (d === 'pdu-04' ? pduPoll(1_000_000, PDU_W) : pduPoll(PDU_W + (k % 2) * 10));
    const since = clock.now();
    run(since + POLL, (d, k) => liar(d, k));
    run(since + 6 * MIN, (d, k) => liar(d, k));
    expect(last('pdu-04')[0]).toEqual({ point: 'active_power_w', unit: 'W', value: null, quality: 'bad', error: 'DCIM_E_VALUE_INCONSISTENT' });
    expect(last('pdu-04').slice(1).every((r) => r.quality === 'good')).toBe(true);
    let v = livePue();
    expect(v).toMatchObject({ ok: true, quality: 'estimated', inputs: { stale_meter_count: 1 } });
    expect(v.stale_meters).toEqual([expect.objectContaining({ device: 'pdu-04', carried: true })]);
    // Carried at its last plausible 3 kW: PUE 1.25, not 37.5 kW / 1,027 kW.
    expect(v.value).toBeCloseTo(1.25, 2);

    // Past the carry bound: no live value rather than a wrong one.
    run(since + 21 * MIN, (d, k) => liar(d, k));
    v = livePue();
    expect(v).toMatchObject({ ok: false, quality: 'insufficient' });
    expect(v.value).toBeUndefined();
  });

  it('a stuck PDU is uncertain: the live PUE keeps a value but grades it estimated', () => {
    const { run, livePue, last } = setup();
    run(T0 + 5 * MIN);
    expect(livePue()).toMatchObject({ ok: true, quality: 'measured' });
    // pdu-10 repeats 3,000 W exactly from now on; the others move.
    run(T0 + 6 * MIN, (d, k) => (d === 'pdu-10' ? pduPoll(PDU_W) : pduPoll(PDU_W + (k % 2) * 10)));
    expect(last('pdu-10')[0]).toMatchObject({ point: 'active_power_w', value: PDU_W, quality: 'uncertain', error: 'DCIM_E_VALUE_STUCK' });
    const v = livePue();
    expect(v).toMatchObject({ ok: true, quality: 'estimated' });
    expect(v.value).toBeCloseTo(1.25, 2);
  });
});
