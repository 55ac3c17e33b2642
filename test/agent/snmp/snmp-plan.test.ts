import { describe, expect, it } from 'vitest';
import { SnmpProfileSchema, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { planSnmpReads } from '../../../agent/snmp/snmp-plan.js';

const profiles = loadProfiles();
const PX = '1.3.6.1.4.1.13742.6';

describe('planSnmpReads', () => {
  it('Raritan PX2: scalars with their DecimalDigits in one GET list; one walk per column and prefix, shared by the sensor-type tables', () => {
    const plan = planSnmpReads(profiles.get('raritan-px2') as SnmpProfile);
    expect(plan.gets).toEqual([
      `${PX}.5.2.3.1.4.1.1.5`,
      `${PX}.5.2.3.1.4.1.1.8`,
      `${PX}.5.2.3.1.4.1.1.6`,
      `${PX}.5.2.3.1.4.1.1.7`,
      `${PX}.5.2.3.1.4.1.1.1`,
      `${PX}.5.2.3.1.4.1.1.4`,
      `${PX}.5.2.3.1.4.1.1.23`,
      `${PX}.3.3.4.1.7.1.1.5`,
      `${PX}.3.3.4.1.7.1.1.8`,
      `${PX}.3.3.4.1.7.1.1.6`,
      `${PX}.3.3.4.1.7.1.1.7`,
      `${PX}.3.3.4.1.7.1.1.1`,
      `${PX}.3.3.4.1.7.1.1.4`,
      `${PX}.3.3.4.1.7.1.1.23`,
    ]);
    // Ten tables, five walks: poles of PDU 1 inlet 1, outlets of PDU 1, and the external sensors'
    // type, units (configuration table) and value (measurements table).
    expect(plan.walks).toEqual([
      { base: `${PX}.5.2.4.1.4`, root: `${PX}.5.2.4.1.4.1.1` },
      { base: `${PX}.5.4.3.1.4`, root: `${PX}.5.4.3.1.4.1` },
      { base: `${PX}.3.6.3.1.2`, root: `${PX}.3.6.3.1.2.1` },
      { base: `${PX}.3.6.3.1.16`, root: `${PX}.3.6.3.1.16.1` },
      { base: `${PX}.5.5.3.1.4`, root: `${PX}.5.5.3.1.4.1` },
    ]);
    expect(plan.tables.map((t) => t.walks)).toEqual([[0], [0], [0], [1], [1], [1], [1], [1], [2, 3], [4]]);
    // DecimalDigits of table rows live in the configuration tables: read per row after the walk.
    expect(plan.tables.every((t) => t.columns.every((c) => c.exponents.every((e) => e.from === 'row')))).toBe(true);
  });

  it('ENTITY-SENSOR (generic-snmp): scale, precision and the status the value depends on are walked beside the value', () => {
    const plan = planSnmpReads(profiles.get('generic-snmp') as SnmpProfile);
    const E = '1.3.6.1.2.1.99.1.1.1';
    const P = '1.3.6.1.2.1.47.1.1.1.1';
    expect(plan.walks.map((w) => w.root)).toEqual([`${E}.1`, `${E}.4`, `${E}.2`, `${E}.3`, `${E}.5`, `${P}.5`, `${P}.7`]);
    const value = plan.tables[0]?.columns.find((c) => c.column.name === 'sensor_value');
    expect(value?.exponents).toEqual([
      { from: 'walk', walk: 2 },
      { from: 'walk', walk: 3 },
    ]);
    // OperStatus is one walk, shared by the value's validity and the sensor_status column.
    expect(value?.valid).toEqual({ walk: 4, in: [1] });
    expect(plan.tables[0]?.columns.find((c) => c.column.name === 'sensor_status')?.walk).toBe(4);
    expect(plan.tables[0]?.walks.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('APC rPDU2: no exponents, a walk per column, prefix-free roots', () => {
    const plan = planSnmpReads(profiles.get('apc-rpdu2') as SnmpProfile);
    expect(plan.gets).toHaveLength(5);
    expect(plan.walks.every((w) => w.root === w.base)).toBe(true);
    // One walk per column: phases 3, banks 2, outlets 3.
    expect(plan.walks).toHaveLength(8);
  });

  it('an OID read twice is asked for once; a column term on a scalar has no row to read', () => {
    const p = SnmpProfileSchema.parse({
      id: 'p',
      class: 'pdu',
      vendor: 'v',
      model: 'm',
      protocol: 'snmp',
      points: [
        { name: 'a', oid: '1.3.6.1.4.1.9.1.0', type: 'integer', exponent_from: [{ oid: '1.3.6.1.4.1.9.9.0', factor: -1 }] },
        { name: 'b', oid: '1.3.6.1.4.1.9.2.0', type: 'integer', exponent_from: [{ oid: '1.3.6.1.4.1.9.9.0', factor: -1 }] },
        { name: 'c', oid: '1.3.6.1.4.1.9.3.0', type: 'integer', exponent_from: [{ column: 2 }] },
      ],
      test_vectors: [{ point: 'a', raw: 1, expected: 1 }],
    });
    const plan = planSnmpReads(p);
    expect(plan.gets).toEqual(['1.3.6.1.4.1.9.1.0', '1.3.6.1.4.1.9.2.0', '1.3.6.1.4.1.9.3.0', '1.3.6.1.4.1.9.9.0']);
    expect(plan.scalars[2]?.exponents[0]).toMatchObject({ from: 'none' });
  });
});
