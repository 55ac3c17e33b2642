import { describe, expect, it } from 'vitest';
import type { Reading, TelemetryMessage } from '../../../contract/messages.js';
import { readingPoints, type DeviceTags } from '../../../collector/store/reading-points.js';

const poll = (device: string, readings: Reading[], ts = 1767225600000): TelemetryMessage => ({ schema: 1, agent: 'edge-1', site: 'demo', device, class: 'pdu', seq: 1, ts, readings, poll: { ms: 1, requests: 1, retries: 0 } });
const r = (point: string, value: Reading['value'], extra: Partial<Reading> = {}): Reading => ({ point, value, quality: value === null ? 'bad' : 'good', ...extra });
const PLACE: DeviceTags = { hall: 'h1', rack: 'r1', role: 'it', level: 'pdu_out' };

describe('readingPoints: raw readings → store points', () => {
  it('puts the readings without index tags on one point tagged with the device and its place', () => {
    const points = readingPoints(poll('pdu-1', [r('active_power_w', 1140, { unit: 'W' }), r('load_state', 'normal'), r('energy_kwh', '12345', { unit: 'kWh' }), r('apparent_power_va', null)]), PLACE);
    expect(points).toEqual([{ measurement: 'pdu', tags: { site: 'demo', device: 'pdu-1', ...PLACE }, fields: { active_power_w: 1140, load_state: 'normal', energy_kwh: 12345 }, ts_ms: 1767225600000 }]);
  });

  it('groups table rows by their index tags, whatever the key order; an undefined tag is no tag', () => {
    const points = readingPoints(
      poll('pdu-1', [
        r('active_power_w', 1, { unit: 'W' }),
        r('phase_current_a', 2, { unit: 'A', index: { phase: '1' } }),
        r('phase_voltage_v', 3, { unit: 'V', index: { phase: '1' } }),
        r('outlet_current_a', 4, { unit: 'A', index: { phase: '2', outlet: '7' } }),
        r('outlet_power_w', 5, { unit: 'W', index: { outlet: '7', phase: '2' } }),
        r('power_factor_ratio', 0.9, { unit: 'ratio', index: { phase: undefined } }),
        r('phase_power_w', 6, { unit: 'W', index: { outlet: undefined, phase: '3' } }),
      ]),
      PLACE,
    );
    const base = { site: 'demo', device: 'pdu-1', ...PLACE };
    expect(points.map((p) => [p.tags, p.fields])).toEqual([
      [base, { active_power_w: 1, power_factor_ratio: 0.9 }],
      [{ ...base, phase: '1' }, { phase_current_a: 2, phase_voltage_v: 3 }],
      [{ ...base, phase: '2', outlet: '7' }, { outlet_current_a: 4, outlet_power_w: 5 }],
      [{ ...base, phase: '3' }, { phase_power_w: 6 }],
    ]);
  });

  it('tags each device with its own id when devices share one place object, and never carries fields from one poll to the next', () => {
    const shared: DeviceTags = {};
    const a = readingPoints(poll('pdu-a', [r('active_power_w', 1, { unit: 'W' })]), shared);
    const b = readingPoints(poll('pdu-b', [r('energy_kwh', 2, { unit: 'kWh' })], 1767225660000), shared);
    const a2 = readingPoints(poll('pdu-a', [r('load_state', 'normal')], 1767225720000), shared);
    expect(a).toEqual([{ measurement: 'pdu', tags: { site: 'demo', device: 'pdu-a' }, fields: { active_power_w: 1 }, ts_ms: 1767225600000 }]);
    expect(b).toEqual([{ measurement: 'pdu', tags: { site: 'demo', device: 'pdu-b' }, fields: { energy_kwh: 2 }, ts_ms: 1767225660000 }]);
    expect(a2).toEqual([{ measurement: 'pdu', tags: { site: 'demo', device: 'pdu-a' }, fields: { load_state: 'normal' }, ts_ms: 1767225720000 }]);
  });
});
