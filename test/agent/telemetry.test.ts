import { describe, expect, it } from 'vitest';
import { TelemetryMessageSchema, type Reading } from '../../contract/index.js';
import { buildTelemetry } from '../../agent/telemetry.js';

const input = (readings: Reading[]) => ({
  agent: 'edge1',
  site: 'demo',
  device: 'pdu-r01-a',
  deviceClass: 'pdu' as const,
  seq: 42,
  ts: 1_767_225_600_000.4,
  result: { readings, poll: { ms: 12.6, requests: 2, retries: 1, timeouts: 1 } },
});

describe('buildTelemetry', () => {
  it('builds a contract-valid message with ts = poll start and integer ms', () => {
    const { message, dropped } = buildTelemetry(input([{ point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' }, { point: 'energy_kwh', value: null, unit: 'kWh', quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' }]));
    expect(dropped).toEqual([]);
    expect(TelemetryMessageSchema.parse(message)).toEqual(message);
    expect(message).toMatchObject({ schema: 1, seq: 42, ts: 1_767_225_600_000, class: 'pdu', poll: { ms: 13, requests: 2, retries: 1, timeouts: 1 } });
  });

  it('drops invalid readings one by one and keeps the rest', () => {
    const { message, dropped } = buildTelemetry(
      input([
        { point: 'active_power_w', value: 1, quality: 'good' },
        { point: 'phase_current_a', value: 1, quality: 'good', index: { phase: '1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16' } },
        { point: 'Bad-Name', value: 1, quality: 'good' },
        { point: 'x_w', value: Number.POSITIVE_INFINITY, quality: 'good' },
        { point: 'y_w', value: null, quality: 'good' },
      ]),
    );
    expect(message.readings.map((r) => r.point)).toEqual(['active_power_w']);
    expect(dropped.map((d) => d.point)).toEqual(['phase_current_a', 'Bad-Name', 'x_w', 'y_w']);
    expect(TelemetryMessageSchema.safeParse(message).success).toBe(true);
  });
});
