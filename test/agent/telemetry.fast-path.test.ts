import { describe, expect, it } from 'vitest';
import { TelemetryMessageSchema, telemetryIfPlain, type Reading } from '../../contract/index.js';
import { badReading, toReading } from '../../agent/decode/decoded.js';
import { buildTelemetry } from '../../agent/telemetry.js';
import { Rng } from '../../simulators/model/rng.js';

/**
 * telemetryIfPlain lets the publisher pass the messages buildTelemetry makes without a second zod
 * parse. It must never accept what TelemetryMessageSchema refuses, and what it accepts must
 * publish as the same JSON the schema's parse output did.
 */
const GOOD_READING = { point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' };
const POOLS: Record<string, readonly unknown[]> = {
  schema: [1, 2, '1', 0, null],
  agent: ['edge-1', 'e', 'x'.repeat(64), 'x'.repeat(65), 'Edge-1', 'edge 1', '', 3, null],
  site: ['demo', 'guian_a', 'Demo', '', 'a/b', 7],
  device: ['pdu-r01-a', 'm', 'PDU', '', '../x', null],
  class: ['pdu', 'ups', 'meter', 'generic', 'toaster', 'PDU', '', 1],
  seq: [0, 1, 123456, 2 ** 53 - 1, 2 ** 53, -1, 1.5, '5', null],
  ts: [1, 1_795_000_000_000, 0, -5, 1.5, 2 ** 53, 1e300, '1795000000000', null],
  readings: [
    [],
    [GOOD_READING],
    [GOOD_READING, { point: 'energy_kwh', value: null, unit: 'kWh', quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' }],
    [GOOD_READING, { point: 'phase_current_a', value: 1, quality: 'good', index: { phase: '1' } }],
    [GOOD_READING, { point: 'x_w', value: null, quality: 'good' }],
    [GOOD_READING, { point: 'Bad-Name', value: 1, quality: 'good' }],
    [GOOD_READING, { point: 'x_w', value: 1, quality: 'good', index: { rack: '1' } }],
    [GOOD_READING, { point: 'x_w', value: 1, quality: 'good', unit: 'furlong' }],
    [GOOD_READING, { point: 'x_w', value: 1, quality: 'good', extra: 1 }],
    [1, 'x', null],
    Array.from({ length: 10_001 }, () => 0),
    {},
    null,
  ],
  poll: [
    { ms: 4, requests: 2, retries: 0 },
    { ms: 0, requests: 0, retries: 0, timeouts: 0 },
    { ms: -1, requests: 1, retries: 0 },
    { ms: 4, requests: 1.5, retries: 0 },
    { ms: 4, requests: 1, retries: 0, timeouts: 0.5 },
    { ms: '4', requests: 1, retries: 0 },
    { ms: 4, requests: 1 },
    { ms: 4, requests: 1, retries: 0, extra: 1 },
    null,
  ],
  extra: [1, null],
};
const KEYS = Object.keys(POOLS);

function candidate(rng: Rng): unknown {
  const o: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (rng.next() < (k === 'extra' ? 0.05 : 0.97)) {
      const pool = POOLS[k]!;
      // Mostly valid values, so that both verdicts come up often.
      o[k] = pool[rng.next() < 0.6 ? 0 : Math.floor(rng.next() * pool.length)];
    }
  }
  return JSON.parse(JSON.stringify(o));
}

const hasForeignKey = (x: unknown): boolean => {
  const o = x as { extra?: unknown; poll?: { extra?: unknown } | null; readings?: unknown };
  const readings = Array.isArray(o.readings) ? (o.readings as unknown[]) : [];
  return 'extra' in o || (typeof o.poll === 'object' && o.poll !== null && 'extra' in o.poll) || readings.some((r) => typeof r === 'object' && r !== null && 'extra' in r);
};

describe('telemetryIfPlain', () => {
  it('agrees with TelemetryMessageSchema on 10,000 generated messages, and publishes what the schema would', () => {
    const rng = new Rng(4217);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = candidate(rng);
      const fast = telemetryIfPlain(x);
      const slow = TelemetryMessageSchema.safeParse(x);
      const label = JSON.stringify(x).slice(0, 300);
      if (!slow.success) {
        expect(fast, label).toBeUndefined();
        refused++;
      } else if (hasForeignKey(x)) {
        // The schema strips foreign keys: such a message is left to it.
        expect(fast, label).toBeUndefined();
      } else {
        expect(fast, label).toBeDefined();
        expect(JSON.stringify(fast), label).toBe(JSON.stringify(slow.data));
        accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(2500);
  });

  it('accepts every message buildTelemetry makes from decoded readings, as the same JSON as the schema', () => {
    const readings: Reading[] = [
      toReading('active_power_w', 'W', { ok: true, value: 1140 }),
      toReading('load_state', undefined, { ok: true, value: 'normal' }),
      toReading('outlet_power_w', 'W', { ok: true, value: 12.5 }, { outlet: '7' }),
      toReading('energy_kwh', 'kWh', { ok: true, value: '18446744073709551615' }),
      toReading('phase_current_a', 'A', { ok: false, error: 'DCIM_E_SNMP_BAD_TYPE', detail: 'x' }, { phase: '2' }),
      badReading('voltage_v', 'V', 'DCIM_E_SNMP_TIMEOUT'),
      badReading('door_open', undefined, 'DCIM_E_SNMP_TIMEOUT', { sensor: '1' }),
    ];
    const { message, dropped } = buildTelemetry({ agent: 'edge1', site: 'demo', device: 'pdu-r01-a', deviceClass: 'pdu', seq: 3, ts: 1_767_225_600_000, result: { readings, poll: { ms: 3, requests: 1, retries: 0, timeouts: 0 } } });
    expect(dropped).toEqual([]);
    expect(telemetryIfPlain(message)).toBe(message);
    // Byte for byte: the key order of the readings is the schema's.
    expect(JSON.stringify(message)).toBe(JSON.stringify(TelemetryMessageSchema.parse(message)));
  });
});
