import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnmpProfileSchema, SystemClock, type Reading, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger, type Logger } from '../../../shared/log.js';
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

const raritanRecording = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'snmprec', 'raritan-px2.snmprec'), 'utf8');
/** Rows of a column out of order (3 before 2), as Fortinet and Juniper agents serve them (snmp_exporter#208). */
const nonIncreasingRecording = [
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99',
  '1.3.6.1.4.1.99.2.1.2.1|2|100',
  '1.3.6.1.4.1.99.2.1.2.3|2|300',
  '1.3.6.1.4.1.99.2.1.2.2|2|200',
  '1.3.6.1.4.1.99.2.1.2.4|2|400',
  '1.3.6.1.4.1.99.2.1.3.1|2|11',
  '',
].join('\n');

const apc = loadProfiles().get('apc-rpdu2') as SnmpProfile;
const px2 = loadProfiles().get('raritan-px2') as SnmpProfile;

function reader(port: number, community: string, profile: SnmpProfile, version: '1' | '2c' = '2c', timeoutMs = 1000, retries = 1, logger?: Logger) {
  const transport = createNetSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port, version, community }, { timeoutMs });
  return new SnmpReader({ profile, transport, policy: { timeoutMs, retries }, clock: new SystemClock(), ...(logger ? { logger } : {}) });
}

const pick = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.index ? `${r.point}[${Object.values(r.index).join()}]` : r.point, r.quality === 'good' ? r.value : r.error]));

describe('SnmpReader against snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim({ 'apc-rpdu2': apcRecording, nasty: nastyRecording, 'raritan-px2': raritanRecording, nonincreasing: nonIncreasingRecording }));

  // PDU 1 of the recording; PDU 2 of the daisy chain serves 999999 everywhere and must never show up.
  const raritanExpected: Record<string, unknown> = {
    active_power_w: 3480,
    energy_kwh: 74123.456,
    apparent_power_va: 3600,
    power_factor_ratio: 0.97,
    current_a: 15.123,
    voltage_v: 230,
    // The recording has no inlet frequency sensor (type 23).
    frequency_hz: 'DCIM_E_SNMP_NO_SUCH_OBJECT',
    ...Object.fromEntries([1, 2, 3].flatMap((p) => [
      [`phase_current_a[${p}]`, (5040 + p) / 1000],
      [`phase_voltage_v[${p}]`, 229 + p],
      [`phase_power_w[${p}]`, 1160 + p],
    ])),
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => i + 1).flatMap((o) => [
      // Outlet 12 reports its current with one decimal digit (25 → 2.5 A): digits are per row.
      [`outlet_current_a[${o}]`, o === 12 ? 2.5 : (210 * o) / 1000],
      [`outlet_power_w[${o}]`, 45 * o],
      [`outlet_energy_kwh[${o}]`, (1000000 + 1234 * o) / 1000],
      [`outlet_voltage_v[${o}]`, 230],
      [`outlet_power_factor_ratio[${o}]`, 0.94],
    ])),
  };

  it.each(['2c', '1'] as const)('raritan-px2 over v%s: multi-part indexes of PDU 1 only, DecimalDigits per row', async (version) => {
    const r = reader(sim().port, 'raritan-px2', px2, version);
    try {
      const res = await r.read();
      expect(pick(res.readings)).toEqual(raritanExpected);
      expect(res.readings.find((x) => x.point === 'outlet_power_w' && x.index?.outlet === '12')).toEqual({ point: 'outlet_power_w', unit: 'W', index: { outlet: '12' }, value: 540, quality: 'good' });
      if (version === '2c') {
        // 1 GET (7 values + their digits), 4 GETBULKs (21 pole rows, 72 outlet rows of 6 sensor
        // types, no external sensors), 3 GETs for the 69 row digits (25 a request).
        expect(res.poll).toMatchObject({ requests: 8, retries: 0, timeouts: 0 });
      }
    } finally {
      await r.close();
    }
  });

  describe('non-increasing OIDs', () => {
    const profile = (allow: boolean) =>
      SnmpProfileSchema.parse({
        id: 'unordered',
        class: 'generic',
        vendor: 'test',
        model: 'unordered',
        protocol: 'snmp',
        quirks: { allow_nonincreasing_oids: allow, max_repetitions: 2 },
        tables: [{ entry: '1.3.6.1.4.1.99.2.1', index_tag: 'sensor', columns: [{ name: 'value_count', column: 2, type: 'integer', unit: 'count' }] }],
        test_vectors: [{ point: 'value_count', raw: 1, expected: 1 }],
      });
    it.each([
      ['2c', false, ['1', '3']],
      ['1', false, ['1', '3']],
      ['2c', true, ['1', '2', '3', '4']],
      ['1', true, ['1', '2', '3', '4']],
    ] as const)('v%s allow_nonincreasing_oids=%s → rows %j, and the walk ends', async (version, allow, rows) => {
      const log = memoryLogger('warn');
      const r = reader(sim().port, 'nonincreasing', profile(allow), version, 1000, 0, log);
      try {
        const res = await r.read();
        expect(res.readings.map((x) => x.index?.sensor)).toEqual(rows);
        expect(res.readings.find((x) => x.index?.sensor === '3')?.value).toBe(300);
        expect(res.poll.requests).toBeLessThan(10);
        if (!allow) expect(log.lines.some((l) => l.msg === 'snmp walk: OID not increasing, walk ended')).toBe(true);
      } finally {
        await r.close();
      }
    });
  });

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
        'phase_current_a[1]': 2.2,
        'phase_voltage_v[1]': 230,
        'phase_power_w[1]': 480,
        'phase_current_a[2]': 3,
        'phase_voltage_v[2]': 231,
        'phase_power_w[2]': 660,
        'phase_current_a[3]': 0,
        'phase_voltage_v[3]': 229,
        'phase_power_w[3]': 0,
      });
      expect(res.readings.find((x) => x.point === 'active_power_w')?.unit).toBe('W');
      expect(res.readings.find((x) => x.point === 'phase_voltage_v')?.index).toEqual({ phase: '1' });
      // v2c: 1 GET + one GETBULK that advances the columns of all tables at once (the recording
      // has phases, no banks, no metered outlets); v1: GETNEXT per column and row, plus one per
      // bank and outlet column that finds no row.
      const emptyColumns = apc.tables.filter((t) => t.index_tag !== 'phase').reduce((n, t) => n + t.columns.length, 0);
      expect(res.poll.requests).toBe(version === '2c' ? 2 : 1 + 3 * 4 + emptyColumns);
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
