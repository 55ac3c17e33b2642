import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { TelemetryGate, type GateVerdict } from '../../../collector/ingest/telemetry-gate.js';
import { MAX_INDEX_VALUES } from '../../../collector/ingest/series-budget.js';
import { SEQ_JUMP_WINDOW, SeqDedup } from '../../../collector/state/seq-dedup.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import type { Reading } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';

const DEMO = loadYamlFile(SiteInventorySchema, path.resolve(import.meta.dirname, '../../../seeds/minimal.yaml'));
const PROFILES = loadProfiles();
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const AGENT = 'edge-1';

const power = (w: number, kwh: number): Reading[] => [
  { point: 'active_power_w', value: w, unit: 'W', quality: 'good' },
  { point: 'energy_kwh', value: kwh, unit: 'kWh', quality: 'good' },
];
const poll = (seq: number, ts: number, readings: unknown[], device = 'pdu-r01-a') => ({
  schema: 1,
  agent: AGENT,
  site: 'demo',
  device,
  class: device === 'pdu-r01-a' ? 'pdu' : 'meter',
  seq,
  ts,
  readings,
  poll: { ms: 20, requests: 1, retries: 0 },
});
const send = (gate: TelemetryGate, msg: ReturnType<typeof poll>, now: number): GateVerdict => gate.check(topics.telemetry('demo', AGENT, msg.device), Buffer.from(JSON.stringify(msg)), now);
const gateWith = (profiles = PROFILES) => new TelemetryGate(buildSiteRegistry([DEMO], profiles), new SeqDedup());
const code = (v: GateVerdict) => (v.kind === 'invalid' ? v.failure.code : v.kind);

describe('TelemetryGate: dedup that cannot be poisoned', () => {
  it('refuses forged seqs far ahead under the real agent id; the real agent keeps being counted', () => {
    const gate = gateWith();
    let t = T0;
    let seq = 40_000;
    const real = () => send(gate, poll(++seq, (t += 5000), power(8000, 1000 + seq / 1000)), t + 50);
    for (let i = 0; i < 20; i++) expect(real().kind).toBe('accepted');
    // The attack as it was seen: a few hundred polls with very large seqs under edge-1.
    const forged = Array.from({ length: 300 }, (_, i) => code(send(gate, poll(9e15 - i * 1000, t, power(1, 1)), t + 50)));
    expect(new Set(forged)).toEqual(new Set(['DCIM_E_SEQ_IMPLAUSIBLE']));
    const after = Array.from({ length: 200 }, real);
    expect(after.filter((v) => v.kind === 'accepted')).toHaveLength(200);
    expect(gate.stats().seq.implausible).toBe(300);
  });

  it("bounds an agent's step by its own devices' polls when the inventory names owners", () => {
    const inv = SiteInventorySchema.parse({
      ...DEMO,
      site: { ...DEMO.site, agent: 'edge-a' },
      devices: DEMO.devices.map((d, i) => ({ ...d, interval_s: 1, ...(i === 0 ? {} : { agent: 'edge-b' }) })),
    });
    const gate = new TelemetryGate(buildSiteRegistry([inv], PROFILES), new SeqDedup());
    const dev = inv.devices[0]!;
    const msg = (seq: number, ts: number) => ({ ...poll(seq, ts, power(8000, 1000), dev.id), agent: 'edge-a' });
    const check = (seq: number, ts: number) => gate.check(topics.telemetry('demo', 'edge-a', dev.id), Buffer.from(JSON.stringify(msg(seq, ts))), ts);
    expect(check(1, T0).kind).toBe('accepted');
    // 1,000 s later edge-a (one device, one poll a second) may be 10,000 + 2 × 1,000 ahead, not
    // what the whole site's polls would allow.
    const later = T0 + 1_000_000;
    expect(code(check(1 + SEQ_JUMP_WINDOW + 2 * 1000 + 1, later))).toBe('DCIM_E_SEQ_IMPLAUSIBLE');
    expect(check(1 + SEQ_JUMP_WINDOW + 2 * 1000, later).kind).toBe('accepted');
  });

  it('believes a restart leap once its birth was announced on the state topic', () => {
    const gate = gateWith();
    expect(send(gate, poll(10, T0, power(8000, 1000)), T0).kind).toBe('accepted');
    const leap = 1_767_254_400_000_000; // a corrupt seq file resumes at now × 1000
    expect(code(send(gate, poll(leap, T0 + 5000, power(8000, 1000)), T0 + 5000))).toBe('DCIM_E_SEQ_IMPLAUSIBLE');
    expect(gate.agentState('demo', AGENT, { online: true, ts: T0 + 6000, version: '1', devices: 2, bd_seq: 3 }, T0 + 6000)).toBe('new_birth');
    expect(send(gate, poll(leap, T0 + 7000, power(8000, 1000)), T0 + 7000).kind).toBe('accepted');
    expect(send(gate, poll(11, T0 + 1000, power(8000, 1000)), T0 + 8000).kind).toBe('accepted');
  });
});

describe('TelemetryGate: readings checked against the profile', () => {
  it('drops what the profile cannot produce one by one and keeps the rest of the poll', () => {
    const gate = gateWith();
    const v = send(
      gate,
      poll(1, T0, [
        ...power(8000, 1000),
        { point: 'humidity_pct', value: 40, unit: '%', quality: 'good' },
        { point: 'active_power_w', value: 1, unit: 'W', quality: 'good', index: { outlet: '999' } },
        { point: 'load_state', value: 3, quality: 'good' },
        { point: 'phase_voltage_v', value: 230, unit: 'V', quality: 'good', index: { phase: '1' } },
        { point: 'outlet_power_w', value: 120, unit: 'W', quality: 'good', index: { phase: '1' } },
      ]),
      T0,
    );
    expect(v.kind).toBe('accepted');
    if (v.kind !== 'accepted') return;
    expect(v.message.readings.map((r) => r.point)).toEqual(['active_power_w', 'energy_kwh', 'phase_voltage_v']);
    expect(v.dropped.map((d) => [d.point, d.code])).toEqual([
      ['humidity_pct', 'DCIM_E_READING_NOT_IN_PROFILE'],
      ['active_power_w', 'DCIM_E_READING_INDEX_INVALID'],
      ['load_state', 'DCIM_E_READING_TYPE_MISMATCH'],
      ['outlet_power_w', 'DCIM_E_READING_INDEX_INVALID'],
    ]);
  });

  it('bounds the index values of a device; a message refused by dedup takes no place', () => {
    const gate = gateWith();
    const row = (i: number) => ({ point: 'outlet_power_w', value: 1, unit: 'W', quality: 'good', index: { outlet: String(i) } });
    // Refused as a leap: its thousand rows must not count against the device.
    expect(code(send(gate, poll(1, T0, [row(0)]), T0))).toBe('accepted');
    expect(code(send(gate, poll(9e15, T0, Array.from({ length: 1000 }, (_, i) => row(10_000 + i))), T0))).toBe('DCIM_E_SEQ_IMPLAUSIBLE');
    const v = send(gate, poll(2, T0 + 5000, Array.from({ length: 1000 }, (_, i) => row(i))), T0 + 5000);
    if (v.kind !== 'accepted') throw new Error(v.kind);
    expect(v.message.readings).toHaveLength(MAX_INDEX_VALUES);
    expect(v.dropped).toHaveLength(1000 - MAX_INDEX_VALUES);
    expect(new Set(v.dropped.map((d) => d.code))).toEqual(new Set(['DCIM_E_READING_SERIES_LIMIT']));
    // The rows it holds keep flowing.
    const again = send(gate, poll(3, T0 + 10_000, [row(5), row(255)]), T0 + 10_000);
    expect(again.kind === 'accepted' && again.message.readings.length).toBe(2);
    expect(gate.stats().series).toMatchObject({ entries: MAX_INDEX_VALUES, refused: 1000 - MAX_INDEX_VALUES });
  });

  it('without profiles, keeps accepting any point as before', () => {
    const gate = gateWith(new Map());
    const v = send(gate, poll(1, T0, [...power(8000, 1000), { point: 'humidity_pct', value: 40, unit: '%', quality: 'good' }, { point: 'load_state', value: 3, quality: 'good' }]), T0);
    expect(v.kind === 'accepted' && v.message.readings.length).toBe(4);
  });
});

describe('Collector: forged readings never reach the store, the real ones do', () => {
  it('keeps the field types and the series of the real device', async () => {
    const clock = new ManualClock(T0);
    const sink = new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() });
    const logger = memoryLogger();
    const c = new Collector({ id: 't', inventories: [DEMO], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink, clock, logger });
    const ingest = (m: ReturnType<typeof poll>) => c.ingest(topics.telemetry('demo', AGENT, m.device), Buffer.from(JSON.stringify(m)));
    ingest(poll(1, T0, [...power(8000, 1000), { point: 'load_state', value: 'normal', quality: 'good' }]));
    // Type poisoning and a cardinality flood, under the real agent id with plausible seqs.
    for (let i = 0; i < 50; i++) ingest(poll(2 + i, T0 + 1, [{ point: 'load_state', value: 7, quality: 'good' }, ...Array.from({ length: 20 }, (_, k) => ({ point: `forged_${i}_${k}_w`, value: 1, unit: 'W', quality: 'good' }))]));
    ingest(poll(100, T0 + 5000, [...power(8100, 1000.1), { point: 'load_state', value: 'normal', quality: 'good' }]));
    await sink.flush();
    expect(sink.series({ measurement: 'pdu', field: 'load_state', since_ms: 0 }).map((x) => x.value)).toEqual(['normal', 'normal']);
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', since_ms: 0 }).map((x) => x.value)).toEqual([8000, 8100]);
    const s = c.stats();
    expect(s.invalid_by_code).toMatchObject({ DCIM_E_READING_TYPE_MISMATCH: 50, DCIM_E_READING_NOT_IN_PROFILE: 1000 });
    // One line per kind of problem, not one per device, point or message.
    expect(logger.lines.filter((l) => l.msg === 'invalid readings dropped').map((l) => l.code)).toEqual(['DCIM_E_READING_TYPE_MISMATCH', 'DCIM_E_READING_NOT_IN_PROFILE']);
  });
});
