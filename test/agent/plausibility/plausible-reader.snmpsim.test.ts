import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceProfileSchema, SiteInventorySchema, topics, type DeviceProfile, type Reading } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { Agent } from '../../../agent/index.js';
import { startBroker, subscriber, type TestBroker } from '../support/broker.js';
import { startSnmpsim, useService } from '../support/services.js';
import { parseExposition } from '../metrics/parse-exposition.js';

/**
 * End to end on loopback: snmpsimd serves a UPS (UPS-MIB objects, written for this test) that
 * lies the ways real ones do, the Agent polls it through the same reader factory `dcim poll`
 * uses and publishes to a broker. What the subscriber receives: every impossible value `bad`
 * (no value) with its code, the honest readings of the same poll `good`, and /metrics counting
 * each kind.
 */
const UPS = '1.3.6.1.2.1.33.1';
const recording = [
  `1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99.1`,
  `${UPS}.2.3.0|2|-1`, // upsEstimatedMinutesRemaining: -1, "not available" on this card
  `${UPS}.2.4.0|2|100`, // upsEstimatedChargeRemaining
  `${UPS}.4.2.0|2|65534`, // upsOutputFrequency in 0.1 Hz: 6553.4 Hz, a layout read one register off
  // upsInputEntry line 1: 50.0 Hz, 231 V, 8.0 A, 1,790 W
  `${UPS}.3.3.1.2.1|2|500`,
  `${UPS}.3.3.1.3.1|2|231`,
  `${UPS}.3.3.1.4.1|2|80`,
  `${UPS}.3.3.1.5.1|2|1790`,
  // upsOutputEntry: line 1 reports 1 W while 230 V × 7.4 A ≈ 1.7 kVA; line 2 a negative power
  // (RFC 1628: NonNegativeInteger); line 3 an honest 880 W at 230 V × 4.0 A.
  `${UPS}.4.4.1.2.1|2|230`,
  `${UPS}.4.4.1.3.1|2|74`,
  `${UPS}.4.4.1.4.1|2|1`,
  `${UPS}.4.4.1.2.2|2|230`,
  `${UPS}.4.4.1.3.2|2|50`,
  `${UPS}.4.4.1.4.2|2|-500`,
  `${UPS}.4.4.1.2.3|2|230`,
  `${UPS}.4.4.1.3.3|2|40`,
  `${UPS}.4.4.1.4.3|2|880`,
]
  // snmpsimd walks a recording in file order: it must be sorted by OID.
  .sort((a, b) => compareOids(a.split('|')[0] as string, b.split('|')[0] as string))
  .join('\n')
  .concat('\n');

function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

const profile: DeviceProfile = DeviceProfileSchema.parse({
  id: 'test-ups-plausibility',
  class: 'ups',
  vendor: 'Test',
  model: 'UPS-MIB subset',
  protocol: 'snmp',
  test_vectors: [{ point: 'output_frequency_hz', raw: 500, expected: 50 }],
  points: [
    { name: 'battery_runtime_min', oid: `${UPS}.2.3.0`, type: 'integer', unit: 'min', sentinels: [-1] },
    { name: 'battery_charge_pct', oid: `${UPS}.2.4.0`, type: 'integer', unit: '%' },
    { name: 'output_frequency_hz', oid: `${UPS}.4.2.0`, type: 'integer', scale: 0.1, unit: 'Hz' },
  ],
  tables: [
    {
      entry: `${UPS}.3.3.1`,
      index_tag: 'line',
      columns: [
        { name: 'input_frequency_hz', column: 2, type: 'integer', scale: 0.1, unit: 'Hz' },
        { name: 'input_voltage_v', column: 3, type: 'integer', unit: 'V' },
        { name: 'input_current_a', column: 4, type: 'integer', scale: 0.1, unit: 'A', min: 0 },
        // Marked live with a short run so three polls of a frozen recording show it.
        { name: 'input_power_w', column: 5, type: 'integer', unit: 'W', min: 0, live: true, stuck_polls: 3 },
      ],
    },
    {
      entry: `${UPS}.4.4.1`,
      index_tag: 'line',
      columns: [
        { name: 'output_voltage_v', column: 2, type: 'integer', unit: 'V' },
        { name: 'output_current_a', column: 3, type: 'integer', scale: 0.1, unit: 'A', min: 0 },
        { name: 'output_power_w', column: 4, type: 'integer', unit: 'W', min: 0, kpi: 'active_power_w' },
      ],
    },
  ],
  checks: [{ kind: 'power_vs_vi', power: 'output_power_w', voltage: 'output_voltage_v', current: 'output_current_a', min_power_factor: 0.3, min_apparent_va: 500 }],
});

let broker: TestBroker;
let stateDir: string;
let agent: Agent | undefined;
beforeEach(async () => {
  broker = await startBroker();
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-plausibility-'));
});
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await broker.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const key = (r: Reading) => (r.index?.line ? `${r.point}[${r.index.line}]` : r.point);

describe('plausibility end to end: snmpsimd → Agent → MQTT', () => {
  const sim = useService('snmpsimd', () => startSnmpsim({ 'lying-ups': recording }));

  it('publishes impossible values bad with their code, the rest of the poll good, and counts each kind', async () => {
    const inventory = SiteInventorySchema.parse({
      site: { id: 'demo', name: 'Demo' },
      halls: [{ id: 'h1' }],
      racks: [],
      devices: [{ id: 'ups-1', profile: profile.id, hall: 'h1', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: sim().port, community: 'lying-ups' } }],
    });
    const sub = await subscriber(broker.url, topics.telemetry('demo', 'edge1', 'ups-1'));
    agent = new Agent({
      id: 'edge1',
      inventory,
      profiles: new Map([[profile.id, profile]]),
      mqtt: { url: broker.url },
      stateDir,
      logger: memoryLogger('error'),
      snmp: { timeoutMs: 1000, retries: 1 },
      reconnectPeriodMs: 100,
      metrics: { host: '127.0.0.1', port: 0 },
    });
    await agent.start();

    const first = await sub.waitFor(() => true, 20_000);
    const readings = new Map((first.payload.readings as Reading[]).map((r) => [key(r), r]));
    const judged = Object.fromEntries([...readings].map(([k, r]) => [k, r.quality === 'good' ? r.value : `${r.quality} ${r.error}`]));
    expect(judged).toEqual({
      battery_runtime_min: 'bad DCIM_E_VALUE_UNAVAILABLE',
      battery_charge_pct: 100,
      output_frequency_hz: 'bad DCIM_E_VALUE_OUT_OF_RANGE',
      'input_frequency_hz[1]': 50,
      'input_voltage_v[1]': 231,
      'input_current_a[1]': 8,
      'input_power_w[1]': 1790,
      'output_voltage_v[1]': 230,
      'output_current_a[1]': 7.4,
      'output_power_w[1]': 'bad DCIM_E_VALUE_INCONSISTENT',
      'output_voltage_v[2]': 230,
      'output_current_a[2]': 5,
      'output_power_w[2]': 'bad DCIM_E_VALUE_OUT_OF_RANGE',
      'output_voltage_v[3]': 230,
      'output_current_a[3]': 4,
      'output_power_w[3]': 880,
    });
    // Bad means no value: 6553.4 Hz reaches neither a KPI nor a chart.
    expect(readings.get('output_frequency_hz')).toEqual({ point: 'output_frequency_hz', unit: 'Hz', value: null, quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' });
    expect(readings.get('output_power_w[1]')).toMatchObject({ value: null, index: { line: '1' } });

    // The recording never changes: by the third poll the live input power is stuck, and only it.
    const third = await sub.waitFor((m) => (m.payload.readings as Reading[]).some((r) => r.error === 'DCIM_E_VALUE_STUCK'), 20_000);
    const stuck = (third.payload.readings as Reading[]).filter((r) => r.error === 'DCIM_E_VALUE_STUCK');
    expect(stuck).toEqual([{ point: 'input_power_w', unit: 'W', index: { line: '1' }, value: 1790, quality: 'uncertain', error: 'DCIM_E_VALUE_STUCK' }]);
    expect(sub.messages.filter((m) => m.payload.seq as number <= (third.payload.seq as number)).length).toBeGreaterThanOrEqual(3);

    const text = await (await fetch(`${agent.metricsUrl() as string}`)).text();
    const families = parseExposition(text);
    const byCode = Object.fromEntries((families.get('dcim_agent_readings_implausible_total')?.samples ?? []).map((s) => [s.labels.code, s.value]));
    const polls = byCode.DCIM_E_VALUE_INCONSISTENT as number;
    expect(polls).toBeGreaterThanOrEqual(3);
    // Per poll: one sentinel, two out of range, one inconsistent; stuck from the third poll on.
    expect(byCode).toMatchObject({ DCIM_E_VALUE_UNAVAILABLE: polls, DCIM_E_VALUE_OUT_OF_RANGE: 2 * polls, DCIM_E_COUNTER_DECREASED: 0 });
    expect(byCode.DCIM_E_VALUE_STUCK).toBe(polls - 2);
    const device = families.get('dcim_agent_device_readings_implausible_total')?.samples ?? [];
    expect(device.find((s) => s.labels.code === 'DCIM_E_VALUE_OUT_OF_RANGE')).toMatchObject({ labels: { device: 'ups-1', profile: profile.id }, value: 2 * polls });
    await sub.client.endAsync();
  });
});
