import { describe, expect, it } from 'vitest';
import {
  DeviceProfileSchema,
  decodeWords,
  loadProfiles,
  toEngineering,
  type ModbusProfile,
  type SnmpProfile,
} from '../../contract/index.js';
import { MODBUS_EXCEPTION, encodeModbusImage, profileSpans, readImage } from '../../simulators/encode/modbus-registers.js';
import { encodeSnmpValue, encodeSnmpValues, snmpObjectOids } from '../../simulators/encode/snmp-values.js';
import type { DeviceQuantities, QuantityValue } from '../../simulators/model/quantities.js';

const profiles = loadProfiles();
const q = (values: Record<string, QuantityValue>, rows: DeviceQuantities['rows'] = {}): DeviceQuantities => ({ values, rows });

/** Every catalogue test vector, run backwards: the simulator must produce the raw the agent decodes. */
const vectors = [...profiles.values()].flatMap((p) =>
  p.test_vectors.filter((v) => v.expected !== null && typeof v.expected !== 'boolean' && v.sf === undefined).map((v) => ({ profile: p, ...v, label: `${p.id} ${v.point} = ${String(v.expected)}` })),
);

describe('encoders run the profile test vectors backwards', () => {
  it.each(vectors)('$label', ({ profile, point, raw, expected }) => {
    const value = expected as QuantityValue;
    if (profile.protocol === 'snmp') {
      const table = profile.tables.find((t) => t.columns.some((c) => c.name === point));
      const enc = table
        ? encodeSnmpValues(profile, q({}, { [table.index_tag]: new Map([[1, { [point]: value }]]) }))
        : encodeSnmpValues(profile, q({ [point]: value }));
      expect(enc.problems).toEqual([]);
      expect(enc.values).toHaveLength(1);
      expect(enc.values[0]?.value).toEqual(raw);
    } else if (profile.protocol === 'modbus') {
      const p = profile.points.find((x) => x.name === point)!;
      // Other points get a value too, so the image is complete; only this one is checked.
      const all = Object.fromEntries(profile.points.map((x) => [x.name, x.name === point ? value : 0]));
      const enc = encodeModbusImage(profile, q(all));
      expect(enc.missing).toEqual([]);
      const words = readImage(enc.image, p.register, p.address, Array.isArray(raw) ? raw.length : 1);
      expect(words).toEqual({ ok: true, words: Array.isArray(raw) ? raw : [raw] });
    }
  });
});

describe('SNMP values', () => {
  const apc = profiles.get('apc-rpdu2') as SnmpProfile;

  it('encodes the APC device and phase table in profile order, missing quantities left out', () => {
    const phases = new Map([
      [1, { phase_current_a: 12.34, phase_voltage_v: 229.6, phase_power_w: 2700 }],
      [2, { phase_current_a: 12.1, phase_voltage_v: 231.2, phase_power_w: 2650 }],
    ]);
    const enc = encodeSnmpValues(apc, q({ active_power_w: 8094, energy_kwh: 77062.58, load_state: 'normal' }, { phase: phases }));
    expect(enc.problems).toEqual([]);
    expect(enc.values.map((v) => [v.oid.replace('1.3.6.1.4.1.318.1.1.26.', ''), v.type, v.value])).toEqual([
      ['4.3.1.4.1', 'integer', 2],
      ['4.3.1.5.1', 'integer', 809],
      ['4.3.1.9.1', 'integer', 770626],
      ['6.3.1.5.1', 'integer', 123],
      ['6.3.1.5.2', 'integer', 121],
      ['6.3.1.6.1', 'integer', 230],
      ['6.3.1.6.2', 'integer', 231],
      ['6.3.1.7.1', 'integer', 270],
      ['6.3.1.7.2', 'integer', 265],
    ]);
  });

  it('lists the object OIDs of points and table columns', () => {
    expect(snmpObjectOids(apc)).toEqual([
      '1.3.6.1.4.1.318.1.1.26.4.3.1.4',
      '1.3.6.1.4.1.318.1.1.26.4.3.1.5',
      '1.3.6.1.4.1.318.1.1.26.4.3.1.9',
      '1.3.6.1.4.1.318.1.1.26.4.3.1.16',
      '1.3.6.1.4.1.318.1.1.26.4.3.1.17',
      '1.3.6.1.4.1.318.1.1.26.6.3.1.5',
      '1.3.6.1.4.1.318.1.1.26.6.3.1.6',
      '1.3.6.1.4.1.318.1.1.26.6.3.1.7',
    ]);
  });

  const base = { name: 'x', scale: 1, offset: 0 };
  it.each([
    ['integer clamps to int32', { ...base, type: 'integer' as const }, 3e9, { type: 'integer', value: 2147483647 }],
    ['gauge clamps at 0', { ...base, type: 'gauge' as const }, -4, { type: 'gauge32', value: 0 }],
    ['counter32 wraps', { ...base, type: 'counter32' as const }, 4294967296 + 5, { type: 'counter32', value: 5 }],
    ['counter64 is a bigint', { ...base, type: 'counter64' as const }, 12_345_678_901_234, { type: 'counter64', value: 12_345_678_901_234n }],
    ['scale and offset invert', { ...base, type: 'integer' as const, scale: 0.1, offset: -40 }, 21.5, { type: 'integer', value: 615 }],
    ['timeticks', { ...base, type: 'timeticks' as const }, 360_000, { type: 'timeticks', value: 360_000 }],
    ['string', { ...base, type: 'string' as const }, 'AP8853', { type: 'octet_string', value: 'AP8853' }],
    ['enum by name', { ...base, type: 'enum' as const, enum: { '3': 'normal', '4': 'battery' } }, 'battery', { type: 'integer', value: 4 }],
  ])('%s', (_label, point, value, expected) => {
    expect(encodeSnmpValue(point, value)).toEqual(expected);
  });

  it.each([
    ['an enum name the map lacks', { ...base, type: 'enum' as const, enum: { '1': 'on' } }, 'off', /no raw value maps to "off"/],
    ['a string for a number', { ...base, type: 'integer' as const }, 'high', /no raw value/],
    ['a non-finite number', { ...base, type: 'integer' as const }, Number.NaN, /no finite raw value/],
  ])('refuses %s with a reason', (_label, point, value, reason) => {
    expect(encodeSnmpValue(point, value)).toMatch(reason);
  });
});

describe('Modbus register image', () => {
  const sdm = profiles.get('eastron-sdm630') as ModbusProfile;
  const full = Object.fromEntries(sdm.points.map((p, i) => [p.name, 100 + i]));

  it('covers the span of its points, holes reading 0', () => {
    expect(profileSpans(sdm)).toEqual({ holding: undefined, input: { start: 0, end: 344 }, coil: undefined, discrete: undefined });
    const { image, missing, problems } = encodeModbusImage(sdm, q(full));
    expect([missing, problems]).toEqual([[], []]);
    const power = readImage(image, 'input', 52, 2);
    expect(power.ok && decodeWords(power.words, 'float32', 'ABCD')).toBe(106);
    expect(readImage(image, 'input', 12, 40)).toEqual({ ok: true, words: new Array(40).fill(0) });
  });

  it('names the points it has no value for', () => {
    const { missing } = encodeModbusImage(sdm, q({ active_power_w: 1 }));
    expect(missing).toContain('energy_kwh');
    expect(missing).not.toContain('active_power_w');
  });

  const image = encodeModbusImage(sdm, q(full)).image;
  it.each([
    ['below the span', 'input', 0, 1, true],
    ['the last register', 'input', 343, 1, true],
    ['one past the end', 'input', 343, 2, false],
    ['far outside', 'input', 400, 1, false],
    ['a kind the profile has no points of', 'holding', 0, 1, false],
    ['coils', 'coil', 0, 1, false],
  ] as const)('%s: exception 2 unless inside', (_label, kind, address, count, ok) => {
    const r = readImage(image, kind, address, count);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.exception).toBe(MODBUS_EXCEPTION.illegal_data_address);
  });

  it.each([0, 126, 1.5])('a count of %d is exception 3', (count) => {
    expect(readImage(image, 'input', 0, count)).toEqual({ ok: false, exception: MODBUS_EXCEPTION.illegal_data_value });
  });

  const synthetic = DeviceProfileSchema.parse({
    id: 'synthetic',
    class: 'pv_inverter',
    vendor: 'test',
    model: 'test',
    protocol: 'modbus',
    points: [
      { name: 'active_power_w', register: 'holding', address: 10, type: 'int16', scale_factor: { register: 'holding', address: 14 } },
      { name: 'apparent_power_va', register: 'holding', address: 11, type: 'uint16', scale_factor: { register: 'holding', address: 14 } },
      { name: 'fault_flag', register: 'holding', address: 12, type: 'uint16', bit: 0 },
      { name: 'alarm_flag', register: 'holding', address: 12, type: 'uint16', bit: 3 },
      { name: 'energy_kwh', register: 'holding', address: 20, type: 'uint32', order: 'CDAB', scale: 0.1 },
      { name: 'model_text', register: 'holding', address: 30, type: 'string', length: 4 },
      { name: 'running', register: 'coil', address: 5, type: 'bool' },
    ],
    test_vectors: [{ point: 'active_power_w', raw: [1], expected: 1 }],
  }) as ModbusProfile;

  it('picks a SunSpec scale factor that fits every point sharing it', () => {
    const { image } = encodeModbusImage(synthetic, q({ active_power_w: 123_456, apparent_power_va: 130_000, fault_flag: 1, alarm_flag: 1, energy_kwh: 1234.5, model_text: 'SIM-1', running: 1 }));
    const r = readImage(image, 'holding', 10, 5);
    if (!r.ok) throw new Error('read failed');
    const sf = decodeWords([r.words[4]!], 'int16') as number;
    expect(sf).toBe(1); // 123456 W does not fit int16 at sf 0
    expect(toEngineering(decodeWords([r.words[0]!], 'int16') as number, 1, 0, sf)).toBeCloseTo(123_456, -1);
    expect(toEngineering(decodeWords([r.words[1]!], 'uint16') as number, 1, 0, sf)).toBeCloseTo(130_000, -1);
    expect(r.words[2]).toBe(0b1001); // two bit points share register 12
    const e = readImage(image, 'holding', 20, 2);
    expect(e.ok && toEngineering(decodeWords(e.words, 'uint32', 'CDAB') as number, 0.1)).toBe(1234.5);
    const t = readImage(image, 'holding', 30, 4);
    expect(t.ok && decodeWords(t.words, 'string')).toBe('SIM-1');
    expect(readImage(image, 'coil', 5, 1)).toEqual({ ok: true, words: [1] });
  });

  it('reports a value it cannot encode', () => {
    const enc = encodeModbusImage(synthetic, q({ active_power_w: Number.POSITIVE_INFINITY, apparent_power_va: 1, fault_flag: 0, alarm_flag: 0, energy_kwh: 1, model_text: 'x', running: 0 }));
    expect(enc.problems.join()).toMatch(/active_power_w/);
  });
});
