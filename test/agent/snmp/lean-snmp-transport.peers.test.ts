import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceSchema, SnmpProfileSchema, SystemClock, type Reading, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger } from '../../../shared/log.js';
import { createDeviceReader } from '../../../agent/reader-factory.js';
import { createLeanSnmpTransport } from '../../../agent/snmp/lean-snmp-transport.js';
import { createNetSnmpTransport, type ResolvedSnmpAddress } from '../../../agent/snmp/net-snmp-transport.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { SnmpSocketPool } from '../../../agent/snmp/snmp-socket-pool.js';
import { SNMPD_V3, startSnmpd, startSnmpsim, useService } from '../support/services.js';

/**
 * The lean GET path against real SNMP agents on 127.0.0.1 — Net-SNMP's snmpd and snmpsimd —
 * read side by side with net-snmp: the same profile, the same peer, the same readings.
 */
const mib2 = SnmpProfileSchema.parse({
  id: 'mib2-system',
  class: 'generic',
  vendor: 'Net-SNMP',
  model: 'snmpd',
  protocol: 'snmp',
  quirks: { max_oids_per_request: 3 },
  points: [
    { name: 'sys_name', oid: '1.3.6.1.2.1.1.5.0', type: 'string' },
    { name: 'sys_location', oid: '1.3.6.1.2.1.1.6.0', type: 'string' },
    { name: 'sys_object_id', oid: '1.3.6.1.2.1.1.2.0', type: 'string' },
    { name: 'sys_services', oid: '1.3.6.1.2.1.1.7.0', type: 'integer' },
    { name: 'if_number', oid: '1.3.6.1.2.1.2.1.0', type: 'integer' },
    { name: 'absent_count', oid: '1.3.6.1.2.1.1.99.0', type: 'integer', unit: 'count' },
    { name: 'lo_mtu', oid: '1.3.6.1.2.1.2.2.1.4.1', type: 'integer' },
  ],
  tables: [{ entry: '1.3.6.1.2.1.2.2.1', index_tag: 'sensor', columns: [{ name: 'if_descr', column: 2, type: 'string' }] }],
  test_vectors: [{ point: 'sys_name', raw: 'x', expected: 'x' }],
});

const nasty = SnmpProfileSchema.parse({
  id: 'nasty',
  class: 'generic',
  vendor: 'test',
  model: 'nasty',
  protocol: 'snmp',
  quirks: { max_oids_per_request: 4 },
  points: [
    { name: 'one_count', oid: '1.3.6.1.4.1.99.1.1.0', type: 'integer', unit: 'count' },
    { name: 'missing_count', oid: '1.3.6.1.4.1.99.1.2.0', type: 'integer', unit: 'count' },
    { name: 'big_wh', oid: '1.3.6.1.4.1.99.1.4.0', type: 'counter64', unit: 'Wh' },
    { name: 'room', oid: '1.3.6.1.4.1.99.1.5.0', type: 'string' },
    { name: 'mac', oid: '1.3.6.1.4.1.99.1.6.0', type: 'string' },
    { name: 'gauge_max_count', oid: '1.3.6.1.4.1.99.1.7.0', type: 'gauge', unit: 'count' },
    { name: 'text_temp_c', oid: '1.3.6.1.4.1.99.1.8.0', type: 'gauge', unit: 'degC' },
    { name: 'wrong_type_c', oid: '1.3.6.1.4.1.99.1.5.0', type: 'integer', unit: 'degC' },
    { name: 'neg_count', oid: '1.3.6.1.4.1.99.1.9.0', type: 'integer', unit: 'count' },
    { name: 'ticks_s', oid: '1.3.6.1.4.1.99.1.10.0', type: 'timeticks', unit: 's', scale: 0.01 },
    { name: 'addr', oid: '1.3.6.1.4.1.99.1.11.0', type: 'string' },
    { name: 'small_wh', oid: '1.3.6.1.4.1.99.1.12.0', type: 'counter64', unit: 'Wh' },
  ],
  test_vectors: [{ point: 'one_count', raw: 1, expected: 1 }],
});
const nastyRecording = [
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99',
  '1.3.6.1.4.1.99.1.1.0|2|1',
  '1.3.6.1.4.1.99.1.4.0|70|18446744073709551615',
  '1.3.6.1.4.1.99.1.5.0|4|Hall 1 机房',
  '1.3.6.1.4.1.99.1.6.0|4x|001b21ff',
  '1.3.6.1.4.1.99.1.7.0|66|4294967295',
  '1.3.6.1.4.1.99.1.8.0|4|12.5',
  '1.3.6.1.4.1.99.1.9.0|2|-2147483647',
  '1.3.6.1.4.1.99.1.10.0|67|4294967295',
  '1.3.6.1.4.1.99.1.11.0|64|192.0.2.7',
  '1.3.6.1.4.1.99.1.12.0|70|255',
  '',
].join('\n');
const apcRecording = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'snmprec', 'apc-rpdu2.snmprec'), 'utf8');
const apc = loadProfiles().get('apc-rpdu2') as SnmpProfile;

const pick = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.index ? `${r.point}[${Object.values(r.index).join()}]` : r.point, r.quality === 'good' ? r.value : r.error]));

/** The same profile read through both transports over one pool; the lean one must really have been used. */
async function bothWays(profile: SnmpProfile, address: ResolvedSnmpAddress): Promise<{ lean: Record<string, unknown>; net: Record<string, unknown> }> {
  const pool = new SnmpSocketPool({ clock: new SystemClock() });
  const policy = { timeoutMs: 2000, retries: 1 };
  const lean = new SnmpReader({ profile, transport: createLeanSnmpTransport(address, { timeoutMs: 2000, pool }), policy, clock: new SystemClock() });
  const net = new SnmpReader({ profile, transport: createNetSnmpTransport(address, { timeoutMs: 2000, pool }), policy, clock: new SystemClock() });
  try {
    const a = await lean.read();
    expect(pool.stats().requests).toBeGreaterThan(0);
    const b = await net.read();
    expect(pool.stats()).toMatchObject({ invalid_answers: 0, timeouts: 0, stray: 0 });
    return { lean: pick(a.readings), net: pick(b.readings) };
  } finally {
    await lean.close();
    await net.close();
    pool.close();
  }
}

describe('lean GET path against snmpd', () => {
  const snmpd = useService('snmpd', () => startSnmpd());
  const addr = (version: '1' | '2c'): ResolvedSnmpAddress => ({ protocol: 'snmp', host: '127.0.0.1', port: snmpd().port, version, community: SNMPD_V3.community });

  it.each(['2c', '1'] as const)('v%s: the same readings as net-snmp, scalars, an absent OID and a walked table', async (version) => {
    const { lean, net } = await bothWays(mib2, addr(version));
    expect(lean).toEqual(net);
    expect(lean).toMatchObject({ sys_name: 'snmpd-under-test', sys_location: 'dcim-pulse test rack', lo_mtu: 65536 });
    expect(lean.sys_object_id).toMatch(/^1\.3\.6\.1\.4\.1\.8072\./);
    // v1 fails the whole PDU for one unknown OID (noSuchName): the reader splits it down to the culprit.
    expect(lean.absent_count).toBe('DCIM_E_SNMP_NO_SUCH_OBJECT');
    expect(Object.values(lean)).toContain('lo');
  });

  it('the agent builds the lean transport for v1/v2c devices when it shares a socket pool', async () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const device = DeviceSchema.parse({ id: 'snmpd', profile: 'mib2-system', address: { protocol: 'snmp', host: '127.0.0.1', port: snmpd().port, version: '2c', community: SNMPD_V3.community } });
    const reader = createDeviceReader({ device, profile: mib2 } as Parameters<typeof createDeviceReader>[0], { clock: new SystemClock(), logger: memoryLogger('error'), snmpPool: pool });
    try {
      const res = await reader.read();
      expect(pick(res.readings)).toMatchObject({ sys_name: 'snmpd-under-test' });
      // Three GET batches of at most 3 OIDs went the lean way; the table walk went through net-snmp.
      expect(pool.stats()).toMatchObject({ requests: 3, sessions: 1 });
    } finally {
      await reader.close();
      pool.close();
    }
  });
});

describe('lean GET path against snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim({ nasty: nastyRecording, 'apc-rpdu2': apcRecording }));
  const addr = (community: string, version: '1' | '2c' = '2c'): ResolvedSnmpAddress => ({ protocol: 'snmp', host: '127.0.0.1', port: sim().port, version, community });

  it.each(['2c', '1'] as const)('v%s: Counter64 at 2^64 − 1, negative integers, TimeTicks max, IpAddress, UTF-8 and binary strings: as net-snmp reads them', async (version) => {
    const { lean, net } = await bothWays(nasty, addr('nasty', version));
    expect(lean).toEqual(net);
    expect(lean).toMatchObject({
      one_count: 1,
      missing_count: 'DCIM_E_SNMP_NO_SUCH_OBJECT',
      room: 'Hall 1 机房',
      mac: '0x001b21ff',
      text_temp_c: 12.5,
      wrong_type_c: 'DCIM_E_SNMP_BAD_TYPE',
      neg_count: -2147483647,
      ticks_s: 42949672.95,
      addr: '192.0.2.7',
      ...(version === '2c' ? { big_wh: '18446744073709551615', small_wh: '255' } : {}),
    });
  });

  it('an APC rack PDU profile (scalars and tables): the same readings as net-snmp', async () => {
    const { lean, net } = await bothWays(apc, addr('apc-rpdu2'));
    expect(lean).toEqual(net);
    expect(Object.values(lean).filter((v) => typeof v === 'number').length).toBeGreaterThan(10);
  });
});
