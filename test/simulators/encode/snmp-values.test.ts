import { describe, expect, it } from 'vitest';
import { SnmpProfileSchema, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { decodeSnmpValue } from '../../../agent/decode/snmp-value.js';
import { rowIndexOf } from '../../../shared/codec/table-index.js';
import { SnmpType } from '../../../agent/snmp/asn1-types.js';
import { encodeSnmpValue, encodeSnmpValues, snmpObjectOids } from '../../../simulators/encode/snmp-values.js';
import type { DeviceQuantities, QuantityValue } from '../../../simulators/model/quantities.js';

const profiles = loadProfiles();
const q = (values: Record<string, QuantityValue>, rows: DeviceQuantities['rows'] = {}): DeviceQuantities => ({ values, rows });
const short = (oid: string, base: string) => oid.replace(`${base}.`, '');

/** No OID twice and none below another: an agent could not order such a MIB for GETNEXT. */
function expectServableTree(oids: readonly string[]): void {
  expect(new Set(oids).size).toBe(oids.length);
  for (const a of oids) for (const b of oids) expect(b.startsWith(`${a}.`), `${b} below ${a}`).toBe(false);
}

describe('SNMP values: APC rPDU2', () => {
  const apc = profiles.get('apc-rpdu2') as SnmpProfile;

  it('encodes the device, phase and outlet tables in profile order, missing quantities left out', () => {
    const phases = new Map([
      [1, { phase_current_a: 12.34, phase_voltage_v: 229.6, phase_power_w: 2700 }],
      [2, { phase_current_a: 12.1, phase_voltage_v: 231.2, phase_power_w: 2650 }],
    ]);
    const outlets = new Map<number, Record<string, QuantityValue>>([
      [2, { outlet_current_a: 1.26, outlet_power_w: 268.4, outlet_energy_kwh: 1234.56 }],
      [1, { outlet_current_a: 0.4 }],
    ]);
    const enc = encodeSnmpValues(apc, q({ active_power_w: 8094, energy_kwh: 77062.58, load_state: 'normal' }, { phase: phases, outlet: outlets }));
    expect(enc.problems).toEqual([]);
    expect(enc.values.map((v) => [short(v.oid, '1.3.6.1.4.1.318.1.1.26'), v.type, v.value])).toEqual([
      ['4.3.1.4.1', 'integer', 2],
      ['4.3.1.5.1', 'integer', 809],
      ['4.3.1.9.1', 'integer', 770626],
      ['6.3.1.5.1', 'integer', 123],
      ['6.3.1.5.2', 'integer', 121],
      ['6.3.1.6.1', 'integer', 230],
      ['6.3.1.6.2', 'integer', 231],
      ['6.3.1.7.1', 'integer', 270],
      ['6.3.1.7.2', 'integer', 265],
      ['9.4.3.1.6.1', 'integer', 4],
      ['9.4.3.1.6.2', 'integer', 13],
      ['9.4.3.1.7.2', 'integer', 268],
      ['9.4.3.1.11.2', 'integer', 12346],
    ]);
  });

  it('lists the object OIDs of points and table columns', () => {
    expect(snmpObjectOids(apc).map((o) => short(o, '1.3.6.1.4.1.318.1.1.26'))).toEqual([
      '4.3.1.4',
      '4.3.1.5',
      '4.3.1.9',
      '4.3.1.16',
      '4.3.1.17',
      '6.3.1.5',
      '6.3.1.6',
      '6.3.1.7',
      '8.3.1.4',
      '8.3.1.5',
      '9.4.3.1.6',
      '9.4.3.1.7',
      '9.4.3.1.11',
    ]);
  });

  it('rolls an INTEGER energy counter over past 2^31 - 1 instead of sticking at the top', () => {
    const at = (kwh: number) => encodeSnmpValues(apc, q({ energy_kwh: kwh })).values[0]?.value;
    expect(at(214748364.7)).toBe(2147483647);
    expect(at(214748364.8)).toBe(0);
    expect(at(214748365.3)).toBe(5);
  });
});

describe('SNMP values: Raritan PDU2-MIB (multi-part indexes, DecimalDigits)', () => {
  const px = profiles.get('raritan-px2') as SnmpProfile;
  const base = '1.3.6.1.4.1.13742.6';
  const full = q(
    { active_power_w: 10800.4, energy_kwh: 74123.4567, apparent_power_va: 11250, power_factor_ratio: 0.963 },
    {
      phase: new Map([
        [1, { phase_current_a: 15.2345, phase_voltage_v: 231.2, phase_power_w: 3600 }],
        [2, { phase_current_a: 14.5, phase_voltage_v: 230.4, phase_power_w: 3400 }],
        [3, { phase_current_a: 15.0, phase_voltage_v: 229.9, phase_power_w: 3800 }],
      ]),
      outlet: new Map(Array.from({ length: 24 }, (_, i) => [i + 1, { outlet_current_a: 1 + i / 100, outlet_power_w: 200 + i, outlet_energy_kwh: 1000 + i }])),
    },
  );
  const enc = encodeSnmpValues(px, full);
  const get = (oid: string) => enc.values.find((v) => v.oid === `${base}.${oid}`);

  it('serves each value with the DecimalDigits its precision asks for, at the same index', () => {
    expect(enc.problems).toEqual([]);
    expect(get('5.2.3.1.4.1.1.5')).toEqual({ oid: `${base}.5.2.3.1.4.1.1.5`, type: 'gauge32', value: 10800 });
    expect(get('3.3.4.1.7.1.1.5')?.value).toBe(0);
    expect(get('5.2.3.1.4.1.1.8')?.value).toBe(74123457); // Wh
    expect(get('5.2.3.1.4.1.1.7')?.value).toBe(96);
    expect(get('3.3.4.1.7.1.1.7')).toEqual({ oid: `${base}.3.3.4.1.7.1.1.7`, type: 'gauge32', value: 2 });
    // Inlet pole 1: index {pdu 1, inlet 1, pole 1, rmsCurrent}.
    expect(get('5.2.4.1.4.1.1.1.1')?.value).toBe(15235);
    expect(get('3.3.6.1.7.1.1.1.1')?.value).toBe(3);
    expect(get('5.2.4.1.4.1.1.3.25')?.value).toBe(230);
    // Outlet 24: index {pdu 1, outlet 24, activePower}.
    expect(get('5.4.3.1.4.1.24.5')?.value).toBe(223);
    expect(get('3.5.4.1.7.1.24.5')?.value).toBe(0);
    expect(get('5.4.3.1.4.1.24.1')?.value).toBe(1230);
    expect(get('3.5.4.1.7.1.24.1')?.value).toBe(3);
  });

  it('round-trips every served value through the agent decoder and its digits', () => {
    const digitsOf = (oid: string) => {
      const rel = oid.slice(base.length + 1);
      const cfg = rel.startsWith('5.2.3.1.4.') ? `3.3.4.1.7.${rel.slice('5.2.3.1.4.'.length)}` : rel.startsWith('5.2.4.1.4.') ? `3.3.6.1.7.${rel.slice(10)}` : `3.5.4.1.7.${rel.slice(10)}`;
      return get(cfg)?.value;
    };
    const measured = enc.values.filter((v) => v.oid.startsWith(`${base}.5.`));
    expect(measured).toHaveLength(4 + 3 * 3 + 24 * 3);
    for (const v of measured) {
      const suffix = v.oid.slice(`${base}.5.4.3.1.4.`.length);
      const outletTable = px.tables.find((t) => t.entry === `${base}.5.4.3.1` && rowIndexOf(t, suffix) !== undefined);
      const point = v.oid.startsWith(`${base}.5.4.3.1.4.`) ? outletTable!.columns[0]! : undefined;
      if (!point) continue;
      const outlet = Number(rowIndexOf(outletTable!, suffix));
      const expected = full.rows.outlet!.get(outlet)![point.name] as number;
      const d = decodeSnmpValue(point, SnmpType.Gauge32, v.value, [digitsOf(v.oid)]);
      expect(d.ok && Math.abs((d.value as number) - expected)).toBeLessThanOrEqual(0.0005);
    }
  });

  it('serves a tree an agent can walk, and registers the objects of values and digits', () => {
    expectServableTree(enc.values.map((v) => v.oid));
    const objects = snmpObjectOids(px).map((o) => o.slice(base.length + 1));
    expect(objects).toEqual(['5.2.3.1.4.1.1', '3.3.4.1.7.1.1', '5.2.4.1.4', '3.3.6.1.7', '5.4.3.1.4', '3.5.4.1.7', '3.6.3.1.2', '3.6.3.1.16', '5.5.3.1.4', '3.6.3.1.17']);
    for (const v of enc.values) expect(objects.some((o) => v.oid.startsWith(`${base}.${o}.`)), v.oid).toBe(true);
  });

  it('lets the Unsigned32 Wh counter wrap, as the MIB says it will', () => {
    const e = encodeSnmpValues(px, q({}, { outlet: new Map([[1, { outlet_energy_kwh: 4294967.295 + 0.005 }]]) }));
    expect(e.values.find((v) => v.oid === `${base}.5.4.3.1.4.1.1.8`)?.value).toBe(4);
  });
});

describe('SNMP values: exponents from device objects', () => {
  // ENTITY-SENSOR-MIB style: entPhySensorScale (units = 9) and entPhySensorPrecision per row.
  const ent = SnmpProfileSchema.parse({
    id: 'ent-sensor',
    class: 'generic',
    vendor: 'test',
    model: 'test',
    protocol: 'snmp',
    points: [
      { name: 'big_power_w', oid: '1.3.6.1.4.1.99.1.1.0', type: 'gauge', unit: 'W', precision: 2, exponent_from: [{ oid: '1.3.6.1.4.1.99.1.2.0', factor: -1 }] },
      { name: 'shared_a_w', oid: '1.3.6.1.4.1.99.1.3.0', type: 'integer', unit: 'W', precision: 0, exponent_from: [{ oid: '1.3.6.1.4.1.99.1.9.0', factor: -1 }] },
      { name: 'shared_b_w', oid: '1.3.6.1.4.1.99.1.4.0', type: 'integer', unit: 'W', precision: 1, exponent_from: [{ oid: '1.3.6.1.4.1.99.1.9.0', factor: -1 }] },
    ],
    tables: [
      {
        entry: '1.3.6.1.2.1.99.1.1.1',
        index_tag: 'sensor',
        columns: [
          {
            name: 'sensor_temp_c',
            column: 4,
            type: 'integer',
            unit: 'degC',
            precision: 1,
            exponent_from: [
              { column: 2, factor: 3, bias: -9 },
              { column: 3, factor: -1 },
            ],
          },
        ],
      },
    ],
    test_vectors: [{ point: 'big_power_w', raw: 1, exponents: [0], expected: 1 }],
  }) as SnmpProfile;

  it('holds scale at "units" and carries the precision in the other term', () => {
    const e = encodeSnmpValues(ent, q({}, { sensor: new Map([[7, { sensor_temp_c: -5.46 }]]) }));
    expect(e.values).toEqual([
      { oid: '1.3.6.1.2.1.99.1.1.1.4.7', type: 'integer', value: -55 },
      { oid: '1.3.6.1.2.1.99.1.1.1.2.7', type: 'gauge32', value: 9 },
      { oid: '1.3.6.1.2.1.99.1.1.1.3.7', type: 'gauge32', value: 1 },
    ]);
    expect(decodeSnmpValue(ent.tables[0]!.columns[0]!, SnmpType.Integer, -55, [9, 1])).toEqual({ ok: true, value: -5.5 });
  });

  it('coarsens the exponent until the value fits its type, so the number stays representable', () => {
    const e = encodeSnmpValues(ent, q({ big_power_w: 98_765_432.1 }));
    // 0.01 W resolution would need 9.9e9 > 2^32 - 1; 0.1 W fits.
    expect(e.values).toEqual([
      { oid: '1.3.6.1.4.1.99.1.1.0', type: 'gauge32', value: 987654321 },
      { oid: '1.3.6.1.4.1.99.1.2.0', type: 'gauge32', value: 1 },
    ]);
    const huge = encodeSnmpValues(ent, q({ big_power_w: 1e12 }));
    expect(huge.values[1]).toEqual({ oid: '1.3.6.1.4.1.99.1.2.0', type: 'integer', value: -3 });
    expect(decodeSnmpValue(ent.points[0]!, SnmpType.Gauge32, huge.values[0]!.value, [huge.values[1]!.value])).toEqual({ ok: true, value: 1e12 });
  });

  it('a precision that counts only as decimal places (at_least 0) never carries a coarser exponent: the scale does', () => {
    const generic = profiles.get('generic-snmp') as SnmpProfile;
    const E = '1.3.6.1.2.1.99.1.1.1';
    // 5 GW does not fit Integer32 in units or tenths; a negative precision would not move the point, so kilo it is.
    const e = encodeSnmpValues(generic, q({}, { sensor: new Map([[3, { sensor_value: 5e9 }]]) }));
    const at = (column: number) => e.values.find((v) => v.oid === `${E}.${column}.3`)?.value;
    expect([at(4), at(2), at(3)]).toEqual([5_000_000, 10, 0]);
    const column = generic.tables[0]!.columns.find((c) => c.name === 'sensor_value')!;
    expect(decodeSnmpValue(column, SnmpType.Integer, 5_000_000, [10, 0])).toEqual({ ok: true, value: 5e9 });
  });

  it('reports two points that need different values of one exponent object', () => {
    const e = encodeSnmpValues(ent, q({ shared_a_w: 5, shared_b_w: 5 }));
    expect(e.problems).toEqual([expect.stringMatching(/shared_b_w: 1\.3\.6\.1\.4\.1\.99\.1\.9\.0 already served as 0, wanted 1/)]);
    expect(e.values.filter((v) => v.oid.endsWith('.9.0'))).toHaveLength(1);
  });
});

describe('encodeSnmpValue', () => {
  const base = { name: 'x', scale: 1, offset: 0 };
  it.each([
    ['integer clamps to int32', { ...base, type: 'integer' as const }, 3e9, { type: 'integer', value: 2147483647 }],
    ['gauge clamps at 0', { ...base, type: 'gauge' as const }, -4, { type: 'gauge32', value: 0 }],
    ['a gauge counter wraps', { ...base, type: 'gauge' as const, counter_max: 4294967295 }, 4294967296 + 9, { type: 'gauge32', value: 9 }],
    ['counter32 wraps', { ...base, type: 'counter32' as const }, 4294967296 + 5, { type: 'counter32', value: 5 }],
    ['counter64 is a bigint', { ...base, type: 'counter64' as const }, 12_345_678_901_234, { type: 'counter64', value: 12_345_678_901_234n }],
    ['scale and offset invert', { ...base, type: 'integer' as const, scale: 0.1, offset: -40 }, 21.5, { type: 'integer', value: 615 }],
    ['timeticks', { ...base, type: 'timeticks' as const }, 360_000, { type: 'timeticks', value: 360_000 }],
    ['string', { ...base, type: 'string' as const }, 'AP8853', { type: 'octet_string', value: 'AP8853' }],
    ['enum by name', { ...base, type: 'enum' as const, enum: { '3': 'normal', '4': 'battery' } }, 'battery', { type: 'integer', value: 4 }],
  ])('%s', (_label, point, value, expected) => {
    expect(encodeSnmpValue(point, value)).toEqual(expected);
  });

  it('applies an exponent', () => {
    expect(encodeSnmpValue({ ...base, type: 'gauge' }, 15.2345, -3)).toEqual({ type: 'gauge32', value: 15235 });
  });

  it.each([
    ['an enum name the map lacks', { ...base, type: 'enum' as const, enum: { '1': 'on' } }, 'off', /no raw value maps to "off"/],
    ['a string for a number', { ...base, type: 'integer' as const }, 'high', /no raw value/],
    ['a non-finite number', { ...base, type: 'integer' as const }, Number.NaN, /no finite raw value/],
    ['infinity', { ...base, type: 'gauge' as const }, Number.POSITIVE_INFINITY, /no finite raw value/],
  ])('refuses %s with a reason', (_label, point, value, reason) => {
    expect(encodeSnmpValue(point, value)).toMatch(reason);
  });
});

describe('SNMP values: UPS-MIB', () => {
  const ups = profiles.get('rfc1628-ups') as SnmpProfile;
  it('encodes scalars and both line tables by upsInputLineIndex / upsOutputLineIndex', () => {
    const lines = new Map([1, 2, 3].map((l) => [l, { input_voltage_v: 230.4, input_frequency_hz: 50.02, output_power_w: 10_000 + l, output_load_pct: 33.4 }]));
    const e = encodeSnmpValues(ups, q({ battery_status: 'battery_normal', output_source: 'normal', output_frequency_hz: 49.98, battery_runtime_min: 42.4 }, { line: lines }));
    expect(e.problems).toEqual([]);
    const m = new Map(e.values.map((v) => [v.oid.replace('1.3.6.1.2.1.33.1.', ''), v.value]));
    expect([m.get('2.1.0'), m.get('4.1.0'), m.get('4.2.0'), m.get('2.3.0')]).toEqual([2, 3, 500, 42]);
    expect([m.get('3.3.1.3.2'), m.get('3.3.1.2.3'), m.get('4.4.1.4.3'), m.get('4.4.1.5.1')]).toEqual([230, 500, 10003, 33]);
    expectServableTree(e.values.map((v) => v.oid));
  });
});
