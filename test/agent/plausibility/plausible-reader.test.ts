import { describe, expect, it } from 'vitest';
import { DeviceProfileSchema, type Reading } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import type { DeviceReader, PollResult } from '../../../agent/device-reader.js';
import { withPlausibility } from '../../../agent/plausibility/plausible-reader.js';

const profile = DeviceProfileSchema.parse({
  id: 'test-meter',
  class: 'meter',
  vendor: 'Test',
  model: 'Meter',
  protocol: 'modbus',
  test_vectors: [{ point: 'frequency_hz', raw: [5000], expected: 50 }],
  points: [
    { name: 'frequency_hz', register: 'input', address: 0, type: 'uint16', scale: 0.01, unit: 'Hz' },
    { name: 'voltage_v', register: 'input', address: 1, type: 'uint16', unit: 'V' },
  ],
});

/** A reader that answers the scripted polls in turn. */
function scripted(polls: Reading[][]): DeviceReader & { closed: boolean } {
  let i = 0;
  const r = {
    closed: false,
    read: async (): Promise<PollResult> => ({ readings: polls[i++] ?? [], poll: { ms: 5, requests: 1, retries: 0, timeouts: 0 } }),
    close: async () => {
      r.closed = true;
    },
  };
  return r;
}

const hz = (value: number): Reading => ({ point: 'frequency_hz', unit: 'Hz', value, quality: 'good' });
const volts: Reading = { point: 'voltage_v', unit: 'V', value: 230, quality: 'good' };

describe('withPlausibility', () => {
  it('judges every poll, keeps the poll stats, and closes the reader it wraps', async () => {
    const inner = scripted([[hz(655.34), volts]]);
    const r = withPlausibility(inner, profile);
    const res = await r.read();
    expect(res.readings).toEqual([{ point: 'frequency_hz', unit: 'Hz', value: null, quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' }, volts]);
    expect(res.poll).toEqual({ ms: 5, requests: 1, retries: 0, timeouts: 0 });
    await r.close();
    expect(inner.closed).toBe(true);
  });

  it('logs a finding when it starts and when the point is plausible again, not at every poll', async () => {
    const log = memoryLogger('info');
    const r = withPlausibility(scripted([[hz(655.34)], [hz(655.34)], [{ point: 'frequency_hz', value: null, quality: 'bad', error: 'DCIM_E_MODBUS_TIMEOUT' }], [hz(655.34)], [hz(50)], [hz(50)]]), profile, log);
    for (let i = 0; i < 6; i++) await r.read();
    expect(log.lines.map((l) => [l.msg, l.code, l.point])).toEqual([
      ['implausible value', 'DCIM_E_VALUE_OUT_OF_RANGE', 'frequency_hz'],
      ['value plausible again', 'DCIM_E_VALUE_OUT_OF_RANGE', 'frequency_hz'],
    ]);
    expect(log.lines[0]).toMatchObject({ level: 'warn', detail: '655.34 Hz outside [40, 70]' });
  });
});
