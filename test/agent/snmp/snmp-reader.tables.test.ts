import { describe, expect, it } from 'vitest';
import { ManualClock, type Reading, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { SnmpType as T } from '../../../agent/snmp/asn1-types.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { fakeTransport, type FakeOptions } from './fake-snmp-transport.js';

/**
 * The reader on the built-in profiles whose tables are hard: Raritan PDU2-MIB (multi-part
 * indexes, DecimalDigits in another table) and ENTITY-SENSOR (scale and precision in the row),
 * plus the SNMPv3 security outcomes, against a scripted agent.
 */
const profiles = loadProfiles();
const px2 = profiles.get('raritan-px2') as SnmpProfile;
const generic = profiles.get('generic-snmp') as SnmpProfile;
const PX = '1.3.6.1.4.1.13742.6';

/** PDU 1 (and a chained PDU 2 that must not be read), inlet 1, 3 poles, outlets 1, 2 and 10, external sensors 1 and 2. */
function raritanData(): Record<string, [number, unknown]> {
  const d: Record<string, [number, unknown]> = {};
  const g = (oid: string, v: number) => (d[oid] = [T.Gauge32, v]);
  // Inlet totals and their digits: power 0 digits, energy 0, VA 0, PF 2, current 3, voltage 0, frequency 1.
  [[5, 10800, 0], [8, 74123456, 0], [6, 11250, 0], [7, 96, 2], [1, 48712, 3], [4, 230, 0], [23, 500, 1]].forEach(([type, v, digits]) => {
    g(`${PX}.5.2.3.1.4.1.1.${type}`, v as number);
    g(`${PX}.3.3.4.1.7.1.1.${type}`, digits as number);
  });
  for (const pdu of [1, 2]) {
    for (const pole of [1, 2, 3]) {
      // rmsCurrent (3 digits), rmsVoltage L-L (4, not in the profile), activePower (0), rmsVoltageLN (0)
      for (const [type, v, digits] of [[1, 15000 + pole, 3], [4, 400, 0], [5, 3600 + pole, 0], [25, 230 + pole, 0]] as const) {
        g(`${PX}.5.2.4.1.4.${pdu}.1.${pole}.${type}`, pdu === 1 ? v : 999_999);
        g(`${PX}.3.3.6.1.7.${pdu}.1.${pole}.${type}`, digits);
      }
    }
    for (const outlet of [1, 2, 10]) {
      for (const [type, v, digits] of [[1, 1234 * outlet, 3], [4, 230, 0], [5, 268 * outlet, 0], [7, 95, 2], [8, 1987654 + outlet, 0], [6, 300, 0]] as const) {
        g(`${PX}.5.4.3.1.4.${pdu}.${outlet}.${type}`, pdu === 1 ? v : 999_999);
        g(`${PX}.3.5.4.1.7.${pdu}.${outlet}.${type}`, digits);
      }
    }
    // External sensor 1: temperature (10) in degreeC (7), 1 digit, -4.5 °C; sensor 2: humidity (11) in percent (9), 0 digits.
    for (const [sensor, type, units, digits, v] of [[1, 10, 7, 1, -45], [2, 11, 9, 0, 41]] as const) {
      d[`${PX}.3.6.3.1.2.${pdu}.${sensor}`] = [T.Integer, type];
      d[`${PX}.3.6.3.1.16.${pdu}.${sensor}`] = [T.Integer, units];
      g(`${PX}.3.6.3.1.17.${pdu}.${sensor}`, digits);
      d[`${PX}.5.5.3.1.4.${pdu}.${sensor}`] = [T.Integer, pdu === 1 ? v : 999_999];
    }
  }
  return d;
}

async function read(profile: SnmpProfile, data: Record<string, [number, unknown]>, o: FakeOptions = {}, probe = false, retries = 1) {
  const { transport, log } = fakeTransport(data, o);
  const reader = new SnmpReader({ profile, transport, policy: { timeoutMs: 100, retries }, clock: new ManualClock() });
  const r = await reader.read({ probe });
  return { r, log };
}

const table = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.index ? `${r.point}[${Object.values(r.index).join()}]` : r.point, r.quality === 'good' ? r.value : r.error]));

describe('SnmpReader: Raritan PX2 (multi-part indexes, DecimalDigits)', () => {
  it('reads every point with its exponent in 4 requests: GET, one GETBULK for all walks, the row digits in GETs of 25', async () => {
    const { r, log } = await read(px2, raritanData());
    expect(log.map((l) => [l.op, l.oids.length])).toEqual([['get', 14], ['getbulk', 5], ['get', 25], ['get', 1]]);
    expect(table(r.readings)).toEqual({
      active_power_w: 10800,
      energy_kwh: 74123.456,
      apparent_power_va: 11250,
      power_factor_ratio: 0.96,
      current_a: 48.712,
      voltage_v: 230,
      frequency_hz: 50,
      'phase_current_a[1]': 15.001,
      'phase_current_a[2]': 15.002,
      'phase_current_a[3]': 15.003,
      'phase_voltage_v[1]': 231,
      'phase_voltage_v[2]': 232,
      'phase_voltage_v[3]': 233,
      'phase_power_w[1]': 3601,
      'phase_power_w[2]': 3602,
      'phase_power_w[3]': 3603,
      'outlet_current_a[1]': 1.234,
      'outlet_current_a[2]': 2.468,
      'outlet_current_a[10]': 12.34,
      'outlet_power_w[1]': 268,
      'outlet_power_w[2]': 536,
      'outlet_power_w[10]': 2680,
      'outlet_energy_kwh[1]': 1987.655,
      'outlet_energy_kwh[2]': 1987.656,
      'outlet_energy_kwh[10]': 1987.664,
      'outlet_voltage_v[1]': 230,
      'outlet_voltage_v[2]': 230,
      'outlet_voltage_v[10]': 230,
      'outlet_power_factor_ratio[1]': 0.95,
      'outlet_power_factor_ratio[2]': 0.95,
      'outlet_power_factor_ratio[10]': 0.95,
      'external_sensor_type[1]': 'temperature',
      'external_sensor_type[2]': 'humidity',
      'external_sensor_units[1]': 'degree_c',
      'external_sensor_units[2]': 'percent',
      'external_sensor_value[1]': -4.5,
      'external_sensor_value[2]': 41,
    });
    expect(r.readings.find((x) => x.point === 'outlet_power_w' && x.index?.outlet === '10')).toEqual({ point: 'outlet_power_w', unit: 'W', index: { outlet: '10' }, value: 2680, quality: 'good' });
    expect(r.poll).toMatchObject({ requests: 4, retries: 0, timeouts: 0 });
  });

  it('the chained PDU 2 is never walked: walks start at PDU 1 and end where its rows end', async () => {
    const { log } = await read(px2, raritanData(), {}, false);
    const bulk = log.find((l) => l.op === 'getbulk');
    expect(bulk?.oids).toEqual([`${PX}.5.2.4.1.4.1.1`, `${PX}.5.4.3.1.4.1`, `${PX}.3.6.3.1.2.1`, `${PX}.3.6.3.1.16.1`, `${PX}.5.5.3.1.4.1`]);
  });

  it('a missing DecimalDigits object makes that point bad, not wrong by a factor of 1000', async () => {
    const data = raritanData();
    delete data[`${PX}.3.5.4.1.7.1.2.1`];
    delete data[`${PX}.3.3.4.1.7.1.1.7`];
    const { r } = await read(px2, data);
    const t = table(r.readings);
    expect(t['outlet_current_a[2]']).toBe('DCIM_E_SNMP_NO_SUCH_OBJECT');
    expect(t['outlet_current_a[1]']).toBe(1.234);
    expect(t.power_factor_ratio).toBe('DCIM_E_SNMP_NO_SUCH_OBJECT');
  });

  it('a DecimalDigits served as text is DCIM_E_SNMP_BAD_TYPE for its point only', async () => {
    const data = raritanData();
    data[`${PX}.3.3.4.1.7.1.1.5`] = [T.OctetString, Buffer.from('zero')];
    const { r } = await read(px2, data);
    expect(table(r.readings)).toMatchObject({ active_power_w: 'DCIM_E_SNMP_BAD_TYPE', energy_kwh: 74123.456 });
  });

  it('tooBig on the digits GET splits it; every row still gets its exponent', async () => {
    const { r, log } = await read(px2, raritanData(), { maxVarbinds: 10 });
    expect(log.filter((l) => l.op === 'get').map((l) => l.oids.length)).toEqual([14, 7, 7, 25, 13, 7, 6, 12, 6, 6, 1]);
    expect(r.readings.every((x) => x.quality === 'good')).toBe(true);
  });
});

describe('SnmpReader: ENTITY-SENSOR through generic-snmp', () => {
  const E = '1.3.6.1.2.1.99.1.1.1';
  const data: Record<string, [number, unknown]> = {
    '1.3.6.1.2.1.1.1.0': [T.OctetString, Buffer.from('Lab PDU')],
    '1.3.6.1.2.1.1.2.0': [T.OID, '1.3.6.1.4.1.99999.1'],
    '1.3.6.1.2.1.1.3.0': [T.TimeTicks, 4200],
    '1.3.6.1.2.1.1.5.0': [T.OctetString, Buffer.from('pdu-lab')],
    // 1.6.0 (sysLocation) not served
    // sensor 1: 2345 W with precision 1 (units); sensor 7: 5 kW; sensor 9: overflow; sensor 12: scale garbage
    ...Object.fromEntries(
      [
        [1, 6, 9, 1, 2345, 1],
        [7, 6, 10, 0, 5, 1],
        [9, 8, 9, 0, 1_000_000_000, 2],
        [12, 5, 99, 0, 7, 1],
      ].flatMap(([i, type, scale, precision, value, status]) => [
        [`${E}.1.${i}`, [T.Integer, type]],
        [`${E}.2.${i}`, [T.Integer, scale]],
        [`${E}.3.${i}`, [T.Integer, precision]],
        [`${E}.4.${i}`, [T.Integer, value]],
        [`${E}.5.${i}`, [T.Integer, status]],
      ]),
    ),
  };

  it('system group and sensors with scale and precision from the same row, in 2 requests', async () => {
    const { r, log } = await read(generic, data);
    // Seven columns: five of entPhySensorTable, entPhysicalClass and entPhysicalName (none served here).
    expect(log.map((l) => [l.op, l.oids.length])).toEqual([['get', 5], ['getbulk', 7]]);
    expect(table(r.readings)).toEqual({
      sys_descr: 'Lab PDU',
      sys_object_id: '1.3.6.1.4.1.99999.1',
      uptime_s: 42,
      sys_name: 'pdu-lab',
      sys_location: 'DCIM_E_SNMP_NO_SUCH_OBJECT',
      'sensor_type[1]': 'watts',
      'sensor_value[1]': 234.5,
      'sensor_status[1]': 'ok',
      'sensor_type[7]': 'watts',
      'sensor_value[7]': 5000,
      'sensor_status[7]': 'ok',
      'sensor_type[9]': 'celsius',
      'sensor_value[9]': 'DCIM_E_VALUE_UNAVAILABLE',
      'sensor_status[9]': 'unavailable',
      'sensor_type[12]': 'amperes',
      'sensor_value[12]': 'DCIM_E_DECODE_VALUE',
      'sensor_status[12]': 'ok',
    });
  });

  it('a timeout in the middle of the walk keeps the rows read, flags each column once', async () => {
    const { transport } = fakeTransport(data);
    let calls = 0;
    const flaky = { ...transport, getBulk: (o: readonly string[], reps: number) => (++calls > 1 ? Promise.resolve({ ok: false as const, kind: 'timeout' as const, message: 'lost' }) : transport.getBulk(o, reps)) };
    // Two rows per GETBULK: the first answer brings sensors 1 and 7, the second is lost.
    const profile = { ...generic, quirks: { ...generic.quirks, max_repetitions: 2 } };
    const reader = new SnmpReader({ profile, transport: flaky, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock() });
    const r = await reader.read();
    expect(r.readings.filter((x) => x.quality === 'good' && x.index).map((x) => x.index?.sensor)).toEqual(['1', '1', '1', '7', '7', '7']);
    expect(r.readings.filter((x) => x.error === 'DCIM_E_SNMP_TIMEOUT').map((x) => x.point)).toEqual(['sensor_type', 'sensor_value', 'sensor_status']);
  });
});

describe('SnmpReader: SNMPv3 security outcomes and probes', () => {
  const data = raritanData();

  it('notInTimeWindow: rediscovers the engine once and goes on, counted as a retry', async () => {
    const { r, log } = await read(px2, data, { version: '3', skewed: true });
    expect(log.map((l) => l.op)).toEqual(['get', 'resync', 'get', 'getbulk', 'get', 'get']);
    expect(r.poll).toMatchObject({ requests: 5, retries: 1, timeouts: 0 });
    expect(r.readings.every((x) => x.quality === 'good')).toBe(true);
  });

  it('an agent still out of the window after one resync ends the poll as DCIM_E_SNMP_ERROR (down)', async () => {
    const { r, log } = await read(px2, data, { version: '3', skewed: 'forever' });
    expect(log.map((l) => l.op)).toEqual(['get', 'resync', 'get']);
    expect(r.readings.every((x) => x.error === 'DCIM_E_SNMP_ERROR')).toBe(true);
  });

  it('a USM refusal (wrong key, unknown user) is sent once, not once per batch', async () => {
    const { r, log } = await read(px2, data, { version: '3', authFail: true });
    expect(log).toHaveLength(1);
    expect(r.readings.every((x) => x.error === 'DCIM_E_SNMP_ERROR')).toBe(true);
  });

  it('a probe of a dead device sends one request, no retries', async () => {
    const { r, log } = await read(px2, data, { dead: true }, true, 3);
    expect(log).toHaveLength(1);
    expect(r.poll).toMatchObject({ requests: 1, retries: 0, timeouts: 1 });
  });

  it('a probe that gets an answer reads the whole device', async () => {
    const { r } = await read(px2, data, {}, true);
    expect(r.readings.every((x) => x.quality === 'good')).toBe(true);
  });

  it('an answer naming another OID than asked is not taken for it', async () => {
    const { transport } = fakeTransport(data);
    const lying = { ...transport, get: async (o: readonly string[]) => {
      const a = await transport.get(o);
      return a.ok ? { ok: true as const, value: a.value.map((vb, i) => (i === 0 ? { ...vb, oid: `${vb.oid}.99` } : vb)) } : a;
    } };
    const reader = new SnmpReader({ profile: px2, transport: lying, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock() });
    const r = await reader.read();
    expect(table(r.readings).active_power_w).toBe('DCIM_E_SNMP_ERROR');
    expect(table(r.readings).energy_kwh).toBe(74123.456);
  });

  it('genErr on a multi-column GETBULK: the walks go on one column at a time', async () => {
    const { transport, log } = fakeTransport(data);
    const picky = { ...transport, getBulk: (o: readonly string[], reps: number) => (o.length > 1 ? Promise.resolve({ ok: false as const, kind: 'error_status' as const, status: 5, message: 'genErr' }) : transport.getBulk(o, reps)) };
    const reader = new SnmpReader({ profile: px2, transport: picky, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock() });
    const r = await reader.read();
    expect(r.readings.every((x) => x.quality === 'good')).toBe(true);
    expect(log.filter((l) => l.op === 'getbulk').map((l) => l.oids.length)).toEqual([1, 1, 1, 1, 1]);
  });
});
