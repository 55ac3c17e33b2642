import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../contract/messages.js';
import { DeviceProfileSchema, profilePoints } from '../../../contract/profile.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { checkAgainstProfile, profileReadingRules } from '../../../collector/ingest/profile-readings.js';

const profiles = loadProfiles();

const good = (point: string, value: Reading['value'], index?: Reading['index']): Reading => ({ point, value, quality: 'good', ...(index ? { index } : {}) });

describe('profile reading rules', () => {
  it('accept every test vector of every built-in profile with the index tag its point declares', () => {
    const refused: string[] = [];
    let checked = 0;
    for (const p of profiles.values()) {
      const rules = profileReadingRules(p);
      const tags = new Map<string, Set<string | undefined>>();
      for (const ref of profilePoints(p)) tags.set(ref.name, (tags.get(ref.name) ?? new Set()).add(ref.index_tag));
      for (const v of p.test_vectors) {
        if (v.expected === null) continue;
        // The vector does not say which row: it must fit at least one place the point has.
        const outcomes = [...(tags.get(v.point) ?? [undefined])].map((tag) => checkAgainstProfile(rules, good(v.point, v.expected, tag ? { [tag]: '1' } : undefined)));
        checked++;
        if (outcomes.every((o) => o !== undefined)) refused.push(`${p.id} ${v.point} = ${JSON.stringify(v.expected)}: ${outcomes[0]?.reason ?? ''}`);
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(refused).toEqual([]);
  });

  const pdu = DeviceProfileSchema.parse({
    id: 'test-pdu',
    class: 'pdu',
    vendor: 'T',
    model: 'T',
    protocol: 'snmp',
    test_vectors: [{ point: 'model', raw: 'x', expected: 'x' }],
    points: [
      { name: 'model', oid: '1.3.6.1.4.1.1.1.0', type: 'string' },
      { name: 'energy_kwh', oid: '1.3.6.1.4.1.1.2.0', type: 'counter64' },
      { name: 'status', oid: '1.3.6.1.4.1.1.3.0', type: 'integer', enum: { '1': 'ok', '2': 'fault' } },
    ],
    tables: [{ entry: '1.3.6.1.4.1.1.4.1', index_tag: 'outlet', columns: [{ name: 'active_power_w', column: 2, type: 'gauge' }] }],
  });
  const rules = profileReadingRules(pdu);

  it.each([
    { name: 'a scalar string', r: good('model', 'AP8941') },
    { name: 'a Counter64 as a decimal string', r: good('energy_kwh', '18446744073709551615') },
    { name: 'a Counter64 answered as Counter32 (a number)', r: good('energy_kwh', 1234) },
    { name: 'an enum state name', r: good('status', 'fault') },
    { name: 'a table row', r: good('active_power_w', 120.5, { outlet: '7' }) },
    { name: 'a bad reading without value', r: { point: 'active_power_w', value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT', index: { outlet: '7' } } as Reading },
    { name: 'a table that could not be read at all (bad, no row)', r: { point: 'active_power_w', value: null, quality: 'bad', error: 'DCIM_E_REDFISH_TIMEOUT' } as Reading },
  ])('accepts $name', ({ r }) => {
    expect(checkAgainstProfile(rules, r)).toBeUndefined();
  });

  it.each([
    { name: 'a point the profile lacks', r: good('voltage_v', 230), code: 'DCIM_E_READING_NOT_IN_PROFILE' },
    { name: 'an index on a scalar point', r: good('model', 'x', { outlet: '1' }), code: 'DCIM_E_READING_INDEX_INVALID' },
    { name: 'a table point without its index', r: good('active_power_w', 1), code: 'DCIM_E_READING_INDEX_INVALID' },
    { name: 'a bad scalar reading with an index', r: { point: 'model', value: null, quality: 'bad', index: { outlet: '1' } } as Reading, code: 'DCIM_E_READING_INDEX_INVALID' },
    { name: 'another index tag', r: good('active_power_w', 1, { phase: '1' }), code: 'DCIM_E_READING_INDEX_INVALID' },
    { name: 'two index tags', r: good('active_power_w', 1, { outlet: '1', phase: '1' }), code: 'DCIM_E_READING_INDEX_INVALID' },
    { name: 'a number where the profile yields a string', r: good('model', 42), code: 'DCIM_E_READING_TYPE_MISMATCH' },
    { name: 'a number where an enum yields a state name', r: good('status', 2), code: 'DCIM_E_READING_TYPE_MISMATCH' },
    { name: 'a string where the profile yields a number', r: good('active_power_w', 'high', { outlet: '1' }), code: 'DCIM_E_READING_TYPE_MISMATCH' },
    { name: 'a decimal string for a gauge', r: good('active_power_w', '120', { outlet: '1' }), code: 'DCIM_E_READING_TYPE_MISMATCH' },
    { name: 'a boolean for a counter', r: good('energy_kwh', true), code: 'DCIM_E_READING_TYPE_MISMATCH' },
    { name: 'text for a counter', r: good('energy_kwh', '12 kWh'), code: 'DCIM_E_READING_TYPE_MISMATCH' },
  ])('refuses $name', ({ r, code }) => {
    expect(checkAgainstProfile(rules, r)?.code).toBe(code);
  });

  it('knows the index tags of SunSpec model 160 repeating blocks (module) and the UPS-MIB alarm table (alarm), and Redfish, Prometheus and Modbus value types', () => {
    const inverter = profileReadingRules(profiles.get('sunspec-inverter')!);
    const modulePoint = profilePoints(profiles.get('sunspec-inverter')!).find((p) => p.index_tag === 'module');
    expect(modulePoint).toBeDefined();
    expect(checkAgainstProfile(inverter, good(modulePoint!.name, 812.5, { module: '2' }))).toBeUndefined();
    expect(checkAgainstProfile(inverter, good(modulePoint!.name, 812.5))?.code).toBe('DCIM_E_READING_INDEX_INVALID');

    // UPS-MIB's alarm table: one row per present alarm, indexed by upsAlarmId, its value the alarm's name.
    const ups = profileReadingRules(profiles.get('rfc1628-ups')!);
    expect(checkAgainstProfile(ups, good('alarm', 'on_battery', { alarm: '17' }))).toBeUndefined();
    expect(checkAgainstProfile(ups, good('alarm', 2, { alarm: '17' }))?.code).toBe('DCIM_E_READING_TYPE_MISMATCH');
    expect(checkAgainstProfile(ups, good('alarm', 'on_battery', { line: '1' }))?.code).toBe('DCIM_E_READING_INDEX_INVALID');

    const redfish = profiles.get('redfish-gpu-server')!;
    const gpu = profilePoints(redfish).find((p) => p.index_tag === 'gpu' && p.unit === 'W')!;
    expect(checkAgainstProfile(profileReadingRules(redfish), good(gpu.name, 300, { gpu: 'GPU0' }))).toBeUndefined();
    expect(checkAgainstProfile(profileReadingRules(redfish), good(gpu.name, '300', { gpu: 'GPU0' }))?.code).toBe('DCIM_E_READING_TYPE_MISMATCH');

    const dcgm = profiles.get('dcgm-exporter')!;
    const label = dcgm.protocol === 'prometheus' ? [...dcgm.points, ...dcgm.tables.flatMap((t) => t.columns)].find((c) => c.label !== undefined) : undefined;
    if (label) expect(checkAgainstProfile(profileReadingRules(dcgm), good(label.name, 7, { gpu: '0' }))?.code).toBe('DCIM_E_READING_TYPE_MISMATCH');

    const coils = [...profiles.values()].find((p) => p.protocol === 'modbus' && p.points.some((x) => x.bit !== undefined && x.enum === undefined));
    const bit = coils?.protocol === 'modbus' ? coils.points.find((x) => x.bit !== undefined && x.enum === undefined) : undefined;
    expect(bit).toBeDefined();
    const bitRules = profileReadingRules(coils!);
    expect(checkAgainstProfile(bitRules, good(bit!.name, true, bit!.model?.repeat ? { [bit!.model.repeat.index_tag]: '1' } : undefined))).toBeUndefined();
    expect(checkAgainstProfile(bitRules, good(bit!.name, 1, bit!.model?.repeat ? { [bit!.model.repeat.index_tag]: '1' } : undefined))?.code).toBe('DCIM_E_READING_TYPE_MISMATCH');
  });
});
