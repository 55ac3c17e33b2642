import { describe, expect, it } from 'vitest';
import { DeviceProfileSchema, type ModbusProfile } from '../../../contract/index.js';
import { decodeWords } from '../../../shared/codec/modbus-words.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { toEngineering } from '../../../shared/codec/scale.js';
import { decodeModbusValue } from '../../../agent/decode/modbus-value.js';
import { MODBUS_EXCEPTION, encodeModbusImage, profileSpans, readImage, type RegisterImage } from '../../../simulators/encode/modbus-registers.js';
import { modelAddresses, sunspecLayoutOf, sunspecSpan } from '../../../simulators/encode/sunspec-layout.js';
import type { DeviceQuantities, QuantityValue } from '../../../simulators/model/quantities.js';

const profiles = loadProfiles();
const q = (values: Record<string, QuantityValue>, rows: DeviceQuantities['rows'] = {}): DeviceQuantities => ({ values, rows });
const words = (image: RegisterImage, kind: 'holding' | 'input', address: number, count: number): number[] => {
  const r = readImage(image, kind, address, count);
  if (!r.ok) throw new Error(`exception ${r.exception} at ${kind} ${address}+${count}`);
  return r.words;
};

describe('Modbus register image', () => {
  const sdm = profiles.get('eastron-sdm630') as ModbusProfile;
  const full = Object.fromEntries(sdm.points.map((p, i) => [p.name, 100 + i]));

  it('covers the span of its points, holes reading 0', () => {
    expect(profileSpans(sdm)).toEqual({ holding: undefined, input: { start: 0, end: 74 }, coil: undefined, discrete: undefined });
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
    ['the last register', 'input', 73, 1, true],
    ['one past the end', 'input', 73, 2, false],
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

describe('Modbus images of the built-in meters', () => {
  // Each meter at the same physical state; the agent decoder reads it back from each wire format.
  const state = { active_power_w: 48_213.7, energy_kwh: 1_234_567.8, voltage_l1_v: 230.1, voltage_l2_v: 229.4, voltage_l3_v: 231.7, current_l1_a: 70.25, current_l2_a: 69.5, current_l3_a: 71.125, frequency_hz: 50.02, power_factor_ratio: 0.973 };
  it.each([
    ['wattnode-wnd', 1],
    ['carlo-gavazzi-em24-e1', 0.1],
    ['schneider-pm5000', 1],
    ['eastron-sdm630', 1],
  ])('%s reads back within its resolution', (id, powerStep) => {
    const p = profiles.get(id) as ModbusProfile;
    const values = Object.fromEntries(p.points.map((pt) => [pt.name, state[pt.name as keyof typeof state] ?? 1]));
    const enc = encodeModbusImage(p, q(values));
    expect([enc.missing, enc.problems]).toEqual([[], []]);
    for (const pt of p.points) {
      const n = pt.register === 'coil' || pt.register === 'discrete' ? 1 : pt.type === 'int64' ? 4 : pt.type.endsWith('32') ? 2 : 1;
      const d = decodeModbusValue(pt, { words: words(enc.image, pt.register as 'holding' | 'input', pt.address, n) });
      const want = values[pt.name] as number;
      expect(d.ok, pt.name).toBe(true);
      // float32 keeps ~7 digits; integers keep their scale's step.
      const tol = Math.max(Math.abs(want) * 1e-6, pt.type === 'float32' ? 0 : pt.scale * (pt.name === 'active_power_w' ? powerStep * 10 : 1));
      expect(Math.abs((d.ok ? (d.value as number) : Number.NaN) - want), pt.name).toBeLessThanOrEqual(tol);
    }
  });

  it('writes WattNode floats low word first and EM24 integers low word first', () => {
    const wn = encodeModbusImage(profiles.get('wattnode-wnd') as ModbusProfile, q({ active_power_w: 5000 }));
    expect(words(wn.image, 'holding', 1008, 2)).toEqual([0x4000, 0x459c]);
    const em = encodeModbusImage(profiles.get('carlo-gavazzi-em24-e1') as ModbusProfile, q({ active_power_w: 5000, energy_kwh: 46341 }));
    expect(words(em.image, 'input', 40, 2)).toEqual([0xc350, 0x0000]);
    expect(words(em.image, 'input', 52, 2)).toEqual([0x1232, 0x0007]);
  });

  it('writes the PM5000 energy as a big-endian INT64 of Wh, exact beyond 2^32', () => {
    const pm = profiles.get('schneider-pm5000') as ModbusProfile;
    const enc = encodeModbusImage(pm, q({ energy_kwh: 9_876_543.21 }));
    const w = words(enc.image, 'holding', 3203, 4);
    expect(decodeWords(w, 'int64', 'ABCD')).toBe(9_876_543_210n);
    expect(decodeModbusValue(pm.points.find((p) => p.name === 'energy_kwh')!, { words: w })).toEqual({ ok: true, value: 9_876_543.21 });
  });

  it('rolls the EM24 kWh×10 counter over past 2^31 - 1', () => {
    const em = profiles.get('carlo-gavazzi-em24-e1') as ModbusProfile;
    const at = (kwh: number) => decodeWords(words(encodeModbusImage(em, q({ energy_kwh: kwh })).image, 'input', 52, 2), 'int32', 'CDAB');
    expect(at(214_748_364.7)).toBe(2147483647);
    expect(at(214_748_364.8)).toBe(0);
    expect(at(214_748_365.0)).toBe(2);
  });

  it('gives a point without a value its "not available" pattern, so the agent never reads a made-up 0', () => {
    const pm = profiles.get('schneider-pm5000') as ModbusProfile;
    const enc = encodeModbusImage(pm, q({ active_power_w: 1000 }));
    const energy = pm.points.find((p) => p.name === 'energy_kwh')!;
    expect(words(enc.image, 'holding', 3203, 4)).toEqual([0x8000, 0, 0, 0]);
    expect(decodeModbusValue(energy, { words: words(enc.image, 'holding', 3203, 4) })).toMatchObject({ ok: false, error: 'DCIM_E_VALUE_UNAVAILABLE' });
  });
});

describe('Modbus images: chiller and CRAH gateways', () => {
  it('packs alarm bits into one word and serves discrete inputs', () => {
    const ch = profiles.get('chiller-bms') as ModbusProfile;
    const enc = encodeModbusImage(ch, q({ chw_supply_temp_c: 7.2, chw_return_temp_c: 12.4, cw_supply_temp_c: 30.1, cw_return_temp_c: 35.3, compressor_alarm: 1, high_pressure_alarm: 0, flow_alarm: 1, active_power_w: 180_000, energy_kwh: 2_000_000, cooling_load_kw: 1010.5, running: 1 }));
    expect([enc.missing, enc.problems]).toEqual([[], []]);
    expect(words(enc.image, 'holding', 768, 1)).toEqual([0b101]);
    expect(words(enc.image, 'holding', 515, 4)).toEqual([124, 72, 301, 353]);
    expect(readImage(enc.image, 'discrete', 0, 1)).toEqual({ ok: true, words: [1] });
    expect(words(enc.image, 'input', 0, 5)).toEqual([0x0002, 0xbf20, 0x0131, 0x2d00, 10105]);
  });

  it('serves the STULZ discrete inputs at 1010 and 1013 only', () => {
    const crah = profiles.get('crah-bms') as ModbusProfile;
    const enc = encodeModbusImage(crah, q({ unit_on: 1, common_alarm: 0, filter_alarm: 1, supply_air_temp_c: 18.5, return_air_temp_c: 29.5, humidity_pct: 45.5, fan_speed_pct: 62, active_power_w: 7400, energy_kwh: 123456.7 }));
    expect([enc.missing, enc.problems]).toEqual([[], []]);
    expect(readImage(enc.image, 'discrete', 1010, 4)).toEqual({ ok: true, words: [0, 0, 0, 1] });
    expect(readImage(enc.image, 'discrete', 1009, 1)).toEqual({ ok: false, exception: MODBUS_EXCEPTION.illegal_data_address });
    expect(words(enc.image, 'input', 0, 4)).toEqual([295, 185, 455, 620]);
  });
});

describe('Modbus images: SunSpec inverter', () => {
  const inv = profiles.get('sunspec-inverter') as ModbusProfile;
  const layout = sunspecLayoutOf(inv)!;
  const state = { active_power_w: 87_450, energy_kwh: 3_456_789.123, dc_power_w: 89_100, voltage_l1_v: 230.1, voltage_l2_v: 229.8, voltage_l3_v: 231.4, current_l1_a: 126.7, current_l2_a: 126.1, current_l3_a: 127.3, frequency_hz: 50.01, power_factor_ratio: 0.99, heatsink_temp_c: 48.6, operating_state: 'mppt' };
  // Model 160: two MPPT modules, one row each.
  const modules = new Map([
    [1, { dc_module_current_a: 21.5, dc_module_voltage_v: 652.3, dc_module_power_w: 14_024, dc_module_energy_kwh: 1_234.567, dc_module_temp_c: 47, dc_module_state: 'mppt' }],
    [2, { dc_module_current_a: 20.9, dc_module_voltage_v: 648.1, dc_module_power_w: 13_545, dc_module_energy_kwh: 1_198.2, dc_module_temp_c: 46, dc_module_state: 'throttled' }],
  ]);
  const enc = encodeModbusImage(inv, q(state, { module: modules }), { serial: 'INV-0042', unit_id: 3 });

  it('puts every point of the profile inside a model of its chain', () => {
    const models = modelAddresses(layout);
    for (const p of inv.points) {
      const inside = models.some((m) => p.address >= m.at + 2 && p.address < m.at + 2 + m.length);
      expect(inside, p.name).toBe(true);
    }
    expect(models.map((m) => [m.id, m.at])).toEqual([
      [1, 40002],
      [103, 40070],
      [160, 40122],
    ]);
  });

  it('lets a SunSpec client discover the models: SunS, the chain, the end marker', () => {
    expect([enc.missing, enc.problems]).toEqual([[], []]);
    expect(profileSpans(inv).holding).toEqual(sunspecSpan(layout));
    expect(words(enc.image, 'holding', 40000, 2)).toEqual([0x5375, 0x6e53]);
    // Walk the chain as pysunspec2 does: [ID][L], skip L, until 0xFFFF.
    const found: number[] = [];
    let at = 40002;
    for (;;) {
      const [id, len] = words(enc.image, 'holding', at, 2) as [number, number];
      if (id === 0xffff) {
        expect(len).toBe(0);
        break;
      }
      found.push(id);
      at += 2 + len;
    }
    expect(found).toEqual([1, 103, 160]);
    expect(decodeWords(words(enc.image, 'holding', 40004, 16), 'string')).toBe('SunSpec Alliance');
    expect(decodeWords(words(enc.image, 'holding', 40052, 16), 'string')).toBe('INV-0042');
    expect(words(enc.image, 'holding', 40068, 1)).toEqual([3]);
    // One read of the whole inverter model, as clients do.
    expect(readImage(enc.image, 'holding', 40070, 52).ok).toBe(true);
    expect(readImage(enc.image, 'holding', 40172, 3)).toEqual({ ok: false, exception: MODBUS_EXCEPTION.illegal_data_address });
  });

  it('serves model 160 with N = the modules its L holds, each module from its row', () => {
    // L 48 = 8 + 2 × 20: N (offset 8) = 2; module k from offset 10 + 20 (k - 1).
    expect(words(enc.image, 'holding', 40122, 2)).toEqual([160, 48]);
    expect(words(enc.image, 'holding', 40130, 1)).toEqual([2]);
    for (const [k, row] of modules) {
      for (const p of inv.points.filter((x) => x.model?.repeat)) {
        const at = p.address + (k - 1) * 20;
        const w = words(enc.image, 'holding', at, p.type === 'uint32' ? 2 : 1);
        const sf = p.scale_factor ? words(enc.image, 'holding', p.scale_factor.address, 1)[0] : undefined;
        const d = decodeModbusValue(p, { words: w, ...(sf !== undefined ? { sf } : {}) });
        const want = row[p.name as keyof typeof row];
        if (typeof want === 'string') expect(d, `${p.name} ${k}`).toEqual({ ok: true, value: want });
        else expect(d.ok && Math.abs((d.value as number) - want), `${p.name} ${k}`).toBeLessThanOrEqual(Math.abs(want) * 1e-4 + 0.001);
      }
    }
  });

  it('decodes every point back through its scale factor', () => {
    for (const p of inv.points.filter((x) => !x.model?.repeat)) {
      const w = words(enc.image, 'holding', p.address, p.type === 'uint32' ? 2 : 1);
      const sf = p.scale_factor ? words(enc.image, 'holding', p.scale_factor.address, 1)[0] : undefined;
      const d = decodeModbusValue(p, { words: w, ...(sf !== undefined ? { sf } : {}) });
      const want = state[p.name as keyof typeof state];
      if (typeof want === 'string') expect(d).toEqual({ ok: true, value: want });
      else expect(d.ok && Math.abs((d.value as number) - want), p.name).toBeLessThanOrEqual(Math.abs(want) * 1e-4 + 0.001);
    }
  });

  it('keeps the energy accumulator at WH_SF 0 and wraps it at 2^32 Wh', () => {
    expect(words(enc.image, 'holding', 40096, 1)).toEqual([0]);
    const wrapped = encodeModbusImage(inv, q({ ...state, energy_kwh: 4_294_967.295 + 0.01 }));
    expect(decodeWords(words(wrapped.image, 'holding', 40094, 2), 'uint32')).toBe(9);
  });

  it('marks a scale-factor group without any value as not implemented (sunssf 0x8000)', () => {
    const partial = encodeModbusImage(inv, q({ active_power_w: 1000 }));
    expect(words(partial.image, 'holding', 40076, 1)).toEqual([0x8000]);
    expect(words(partial.image, 'holding', 40073, 3)).toEqual([0xffff, 0xffff, 0xffff]);
    expect(words(partial.image, 'holding', 40108, 1)).toEqual([0xffff]);
    expect(words(partial.image, 'holding', 40084, 2)).toEqual([10000, 0xffff]);
  });
});
