import { SiteInventorySchema, type SiteInventory } from '../../contract/index.js';

/**
 * The site bench/agent-snmp.ts polls: N rack PDUs (two per rack) answering 20 scalar OIDs each
 * over SNMP v2c, all behind one simulated UDP port and told apart by community. The profile is
 * written for the benchmark (enterprise 32473, reserved for documentation by RFC 5612), with
 * quantities the simulator's PDU model serves, so every OID carries a live value.
 */
export const BENCH_PROFILE_ID = 'bench-pdu-20';
const BASE = '1.3.6.1.4.1.32473.20.1';

/** name, unit, scale, SNMP type; in OID order (.1.0 … .20.0). */
export const BENCH_POINTS: readonly [string, string, number, string][] = [
  ['active_power_w', 'W', 1, 'gauge'],
  ['apparent_power_va', 'VA', 1, 'gauge'],
  ['reactive_power_var', 'var', 1, 'gauge'],
  ['power_factor_ratio', 'ratio', 0.001, 'gauge'],
  ['frequency_hz', 'Hz', 0.01, 'gauge'],
  ['voltage_v', 'V', 0.1, 'gauge'],
  ['current_a', 'A', 0.01, 'gauge'],
  ['voltage_l1_v', 'V', 0.1, 'gauge'],
  ['voltage_l2_v', 'V', 0.1, 'gauge'],
  ['voltage_l3_v', 'V', 0.1, 'gauge'],
  ['current_l1_a', 'A', 0.01, 'gauge'],
  ['current_l2_a', 'A', 0.01, 'gauge'],
  ['current_l3_a', 'A', 0.01, 'gauge'],
  ['power_l1_w', 'W', 1, 'gauge'],
  ['power_l2_w', 'W', 1, 'gauge'],
  ['power_l3_w', 'W', 1, 'gauge'],
  ['voltage_l1_l2_v', 'V', 0.1, 'gauge'],
  ['voltage_l2_l3_v', 'V', 0.1, 'gauge'],
  ['voltage_l3_l1_v', 'V', 0.1, 'gauge'],
  ['energy_kwh', 'kWh', 0.1, 'counter32'],
];

export const benchOid = (i: number) => `${BASE}.${i + 1}.0`;

export function benchProfileYaml(): string {
  const points = BENCH_POINTS.map(([name, unit, scale, type], i) => {
    const kpi = name === 'active_power_w' || name === 'energy_kwh' ? `, kpi: ${name}` : '';
    const counter = type === 'counter32' ? ', counter_max: 429496729.5' : '';
    return `  - { name: ${name}, oid: ${benchOid(i)}, type: ${type}, unit: "${unit}", scale: ${scale}${kpi}${counter} }`;
  });
  return [
    '# Benchmark-only rack PDU: 20 scalar OIDs in one GET (bench/agent-snmp.ts).',
    `id: ${BENCH_PROFILE_ID}`,
    'class: pdu',
    'vendor: dcim-pulse',
    'model: benchmark PDU (20 scalars)',
    'protocol: snmp',
    'points:',
    ...points,
    'test_vectors:',
    '  - { point: active_power_w, raw: 2500, expected: 2500 }',
    '  - { point: voltage_l1_v, raw: 2301, expected: 230.1 }',
    '  - { point: energy_kwh, raw: 123456, expected: 12345.6 }',
    '',
  ].join('\n');
}

export const communityOf = (i: number) => `pdu-${i}`;

export function benchInventory(devices: number, intervalS: number): SiteInventory {
  const racks = Math.ceil(devices / 2);
  return SiteInventorySchema.parse({
    site: { id: 'bench', name: 'Agent benchmark', pue_it_level: 'pdu_out' },
    halls: [{ id: 'h1' }],
    racks: Array.from({ length: racks }, (_, r) => ({ id: `r${r}`, hall: 'h1', rated_kw: 12, sim: { workload: 'general', load_kw: 4 + (r % 7) } })),
    devices: Array.from({ length: devices }, (_, i) => ({
      id: `pdu-${i}`,
      profile: BENCH_PROFILE_ID,
      rack: `r${Math.floor(i / 2)}`,
      address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, version: '2c', community: communityOf(i) },
      interval_s: intervalS,
      meter: { role: 'it', level: 'pdu_out', rated_kw: 12 },
    })),
  });
}
