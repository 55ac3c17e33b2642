import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfiles, SnmpProfileSchema, SystemClock, type Reading, type SnmpProfile } from '../../../contract/index.js';
import { createNetSnmpTransport } from '../../../agent/snmp/net-snmp-transport.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { freeUdpPort, startSnmpsim, useService } from '../support/services.js';

/**
 * The SNMP reader against a real agent: snmpsimd serving recordings written for these tests
 * (community = recording name), through the real net-snmp transport.
 */
const apcRecording = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'snmprec', 'apc-rpdu2.snmprec'), 'utf8');
const nastyRecording = [
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99',
  '1.3.6.1.4.1.99.1.1.0|2|1',
  '1.3.6.1.4.1.99.1.4.0|70|18446744073709551615',
  '1.3.6.1.4.1.99.1.5.0|4|Hall 1 机房',
  '1.3.6.1.4.1.99.1.6.0|4x|001b21ff',
  '1.3.6.1.4.1.99.1.7.0|66|4294967295',
  '1.3.6.1.4.1.99.1.8.0|4|12.5',
  '',
].join('\n');

const apc = loadProfiles().get('apc-rpdu2') as SnmpProfile;

function reader(port: number, community: string, profile: SnmpProfile, version: '1' | '2c' = '2c', timeoutMs = 1000, retries = 1) {
  const transport = createNetSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port, version, community }, { timeoutMs });
  return new SnmpReader({ profile, transport, policy: { timeoutMs, retries }, clock: new SystemClock() });
}

const pick = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.index ? `${r.point}[${Object.values(r.index).join()}]` : r.point, r.quality === 'good' ? r.value : r.error]));

describe('SnmpReader against snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim({ 'apc-rpdu2': apcRecording, nasty: nastyRecording }));

  it.each(['2c', '1'] as const)('apc-rpdu2 over v%s decodes the recorded engineering values, phases included', async (version) => {
    const r = reader(sim().port, 'apc-rpdu2', apc, version);
    try {
      const res = await r.read();
      expect(pick(res.readings)).toEqual({
        load_state: 'normal',
        active_power_w: 1140,
        energy_kwh: 12345.6,
        apparent_power_va: 1200,
        power_factor_ratio: 'DCIM_E_VALUE_UNAVAILABLE', // -1 = not supported (AP7900B style)
        'phase_current_a[1]': 3.1,
        'phase_voltage_v[1]': 230,
        'phase_power_w[1]': 70,
        'phase_current_a[2]': 4.2,
        'phase_voltage_v[2]': 231,
        'phase_power_w[2]': 90,
        'phase_current_a[3]': 0,
        'phase_voltage_v[3]': 229,
        'phase_power_w[3]': 0,
      });
      expect(res.readings.find((x) => x.point === 'active_power_w')?.unit).toBe('W');
      expect(res.readings.find((x) => x.point === 'phase_voltage_v')?.index).toEqual({ phase: '1' });
      // v2c: 1 GET + one GETBULK per table (the recording has phases, no metered outlets);
      // v1: GETNEXT per column and row, plus one per outlet column that finds no row.
      const outletColumns = apc.tables.find((t) => t.index_tag === 'outlet')?.columns.length ?? 0;
      expect(res.poll.requests).toBe(version === '2c' ? 1 + apc.tables.length : 1 + 3 * 4 + outletColumns);
      expect(res.poll).toMatchObject({ retries: 0, timeouts: 0 });
    } finally {
      await r.close();
    }
  });

  it('wrong community: the agent stays silent, so the poll times out cleanly', async () => {
    const r = reader(sim().port, 'no-such-community', apc, '2c', 150, 1);
    try {
      const res = await r.read();
      expect(res.poll).toMatchObject({ requests: 2, retries: 1, timeouts: 2 });
      expect(new Set(res.readings.map((x) => x.error))).toEqual(new Set(['DCIM_E_SNMP_TIMEOUT']));
    } finally {
      await r.close();
    }
  });

  it('serves the nasty cases: Counter64 at 2^64-1, UTF-8 and binary strings, Gauge32 max, text numbers, holes', async () => {
    const profile = SnmpProfileSchema.parse({
      id: 'nasty',
      class: 'generic',
      vendor: 'test',
      model: 'nasty',
      protocol: 'snmp',
      quirks: { max_oids_per_request: 3 },
      points: [
        { name: 'one_count', oid: '1.3.6.1.4.1.99.1.1.0', type: 'integer', unit: 'count' },
        { name: 'missing_count', oid: '1.3.6.1.4.1.99.1.2.0', type: 'integer', unit: 'count' },
        { name: 'big_wh', oid: '1.3.6.1.4.1.99.1.4.0', type: 'counter64', unit: 'Wh' },
        { name: 'room', oid: '1.3.6.1.4.1.99.1.5.0', type: 'string' },
        { name: 'mac', oid: '1.3.6.1.4.1.99.1.6.0', type: 'string' },
        { name: 'gauge_max_count', oid: '1.3.6.1.4.1.99.1.7.0', type: 'gauge', unit: 'count' },
        { name: 'text_temp_c', oid: '1.3.6.1.4.1.99.1.8.0', type: 'gauge', unit: 'degC' },
        { name: 'wrong_type_c', oid: '1.3.6.1.4.1.99.1.5.0', type: 'integer', unit: 'degC' },
      ],
      test_vectors: [{ point: 'one_count', raw: 1, expected: 1 }],
    });
    for (const version of ['2c', '1'] as const) {
      const r = reader(sim().port, 'nasty', profile, version);
      try {
        const res = await r.read();
        expect(pick(res.readings), `v${version}`).toEqual({
          one_count: 1,
          missing_count: 'DCIM_E_SNMP_NO_SUCH_OBJECT',
          // SNMPv1 cannot carry Counter64: the agent hides it (RFC 3584 §4.2.2.1).
          big_wh: version === '1' ? 'DCIM_E_SNMP_NO_SUCH_OBJECT' : '18446744073709551615',
          room: 'Hall 1 机房',
          mac: '0x001b21ff',
          gauge_max_count: 4294967295,
          text_temp_c: 12.5,
          wrong_type_c: 'DCIM_E_SNMP_BAD_TYPE',
        });
      } finally {
        await r.close();
      }
    }
  });

  it('an address where nothing listens times out with retries counted (real UDP)', async () => {
    const port = await freeUdpPort();
    const r = reader(port, 'public', apc, '2c', 100, 2);
    const t0 = Date.now();
    try {
      const res = await r.read();
      expect(res.poll).toMatchObject({ requests: 3, retries: 2, timeouts: 3 });
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(res.readings).toHaveLength(apc.points.length + apc.tables.reduce((n, t) => n + t.columns.length, 0));
    } finally {
      await r.close();
    }
  });
});
