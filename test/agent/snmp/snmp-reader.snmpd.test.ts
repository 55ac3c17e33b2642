import { describe, expect, it } from 'vitest';
import { DeviceSchema, SnmpProfileSchema, SystemClock, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger } from '../../../shared/log.js';
import { createDeviceReader } from '../../../agent/reader-factory.js';
import { createNetSnmpTransport, type ResolvedSnmpAddress } from '../../../agent/snmp/net-snmp-transport.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { SnmpSocketPool } from '../../../agent/snmp/snmp-socket-pool.js';
import { SNMPD_V3, SNMPD_V3_USERS, startSnmpd, useService } from '../support/services.js';

/** The SNMP reader against Net-SNMP's own snmpd: standard MIB-2 objects, v2c and SNMPv3 authPriv. */
const profile = SnmpProfileSchema.parse({
  id: 'mib2-system',
  class: 'generic',
  vendor: 'Net-SNMP',
  model: 'snmpd',
  protocol: 'snmp',
  points: [
    { name: 'sys_name', oid: '1.3.6.1.2.1.1.5.0', type: 'string' },
    { name: 'sys_location', oid: '1.3.6.1.2.1.1.6.0', type: 'string' },
    { name: 'uptime_s', oid: '1.3.6.1.2.1.1.3.0', type: 'timeticks', scale: 0.01, unit: 's' },
    { name: 'sys_object_id', oid: '1.3.6.1.2.1.1.2.0', type: 'string' },
  ],
  // ifTable: ifDescr and ifMtu; the loopback interface is always there.
  tables: [{ entry: '1.3.6.1.2.1.2.2.1', index_tag: 'sensor', columns: [{ name: 'if_descr', column: 2, type: 'string' }, { name: 'if_mtu', column: 4, type: 'integer' }] }],
  test_vectors: [{ point: 'sys_name', raw: 'x', expected: 'x' }],
});

function read(address: ResolvedSnmpAddress, pool?: SnmpSocketPool) {
  const reader = new SnmpReader({ profile, transport: createNetSnmpTransport(address, { timeoutMs: 1000, ...(pool ? { pool } : {}) }), policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() });
  return reader.read().finally(() => reader.close());
}

const byPoint = (rs: Reading[], p: string) => rs.filter((r) => r.point === p);

describe('SnmpReader against snmpd', () => {
  const snmpd = useService('snmpd', () => startSnmpd());
  const v3 = (over: Partial<ResolvedSnmpAddress> = {}): ResolvedSnmpAddress => ({
    protocol: 'snmp',
    host: '127.0.0.1',
    port: snmpd().port,
    version: '3',
    community: '',
    user: SNMPD_V3.user,
    auth_protocol: 'sha256',
    auth_key: SNMPD_V3.auth,
    priv_protocol: 'aes',
    priv_key: SNMPD_V3.priv,
    ...over,
  });

  it.each([
    ['v2c', () => ({ protocol: 'snmp', host: '127.0.0.1', port: snmpd().port, version: '2c', community: SNMPD_V3.community }) as ResolvedSnmpAddress],
    ['v3 authPriv SHA-256/AES', () => v3()],
  ])('%s: scalars and the interfaces table', async (_name, address) => {
    const res = await read(address());
    expect(byPoint(res.readings, 'sys_name')[0]).toMatchObject({ value: 'snmpd-under-test', quality: 'good' });
    expect(byPoint(res.readings, 'sys_location')[0]?.value).toBe('dcim-pulse test rack');
    expect(byPoint(res.readings, 'sys_object_id')[0]?.value).toMatch(/^1\.3\.6\.1\.4\.1\.8072\./); // NET-SNMP-MIB
    const uptime = byPoint(res.readings, 'uptime_s')[0]?.value;
    expect(typeof uptime === 'number' && uptime >= 0 && uptime < 600).toBe(true);
    const lo = byPoint(res.readings, 'if_descr').find((r) => r.value === 'lo');
    expect(lo?.index?.sensor).toMatch(/^\d+$/);
    expect(byPoint(res.readings, 'if_mtu').find((r) => r.index?.sensor === lo?.index?.sensor)?.value).toBe(65536);
  });

  type Auth = ResolvedSnmpAddress['auth_protocol'];
  type Priv = ResolvedSnmpAddress['priv_protocol'];
  /** A user of the test snmpd (support/services.ts), checked so a typo cannot turn into a silent "refused". */
  const user = (name: string) => {
    if (!SNMPD_V3_USERS.some((u) => u.user === name)) throw new Error(`snmpd has no user ${name}`);
    return name;
  };
  it.each([
    ['noAuthNoPriv', user('v3-none'), undefined, undefined],
    ['authNoPriv SHA-1', user('v3-sha1-auth'), 'sha', undefined],
    ['authPriv SHA-224 / AES-128', user('v3-sha224-aes'), 'sha224', 'aes'],
    ['authPriv SHA-384 / AES-128', user('v3-sha384-aes'), 'sha384', 'aes'],
    ['authPriv SHA-512 / AES-256 (Blumenthal key localisation)', user('v3-sha512-aes256b'), 'sha512', 'aes256b'],
    ['authPriv SHA-512 / AES-256 (Reeder key localisation)', user('v3-sha512-aes256r'), 'sha512', 'aes256r'],
    ['authPriv MD5 / AES-128', user('v3-md5-aes'), 'md5', 'aes'],
    ['authPriv SHA-1 / AES-256 Blumenthal', user('v3-sha1-aes256b'), 'sha', 'aes256b'],
    ['authPriv SHA-1 / AES-256 Reeder', user('v3-sha1-aes256r'), 'sha', 'aes256r'],
  ] as [string, string, Auth, Priv][])('v3 %s, through the shared socket pool', async (_label, name, auth, priv) => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    try {
      const res = await read(
        v3({ user: name, auth_protocol: auth, auth_key: auth ? SNMPD_V3.auth : undefined, priv_protocol: priv, priv_key: priv ? SNMPD_V3.priv : undefined }),
        pool,
      );
      expect(byPoint(res.readings, 'sys_name')[0]).toMatchObject({ value: 'snmpd-under-test', quality: 'good' });
      expect(byPoint(res.readings, 'if_descr').some((r) => r.value === 'lo')).toBe(true);
      expect(pool.stats()).toMatchObject({ sockets: 1, stray: 0 });
    } finally {
      pool.close();
    }
  });

  it.each([
    ['v3-sha1-aes256b', 'aes256r'],
    ['v3-sha1-aes256r', 'aes256b'],
  ] as const)('AES-256 with SHA-1: user %s asked with %s (the other key localisation) is refused, not misread', async (name, priv) => {
    const res = await read(v3({ user: name, auth_protocol: 'sha', priv_protocol: priv }));
    expect(res.readings.every((r) => r.quality === 'bad')).toBe(true);
  });

  it('v3 with a wrong privacy key reads nothing and says so per point, without throwing', async () => {
    const res = await read(v3({ priv_key: 'wrong-priv-key' }));
    expect(res.readings.length).toBeGreaterThan(0);
    expect(res.readings.every((r) => r.quality === 'bad' && (r.error === 'DCIM_E_SNMP_ERROR' || r.error === 'DCIM_E_SNMP_TIMEOUT'))).toBe(true);
  });

  describe('the security level is met or the device is refused, never downgraded', () => {
    // v3-sha1-auth is an authNoPriv user: snmpd would answer a request that dropped privacy.
    const authOnly = () => v3({ user: user('v3-sha1-auth'), auth_protocol: 'sha', priv_protocol: undefined, priv_key: undefined });

    it('the authNoPriv user answers when authNoPriv is what the config says', async () => {
      const res = await read({ ...authOnly(), security_level: 'authNoPriv' });
      expect(byPoint(res.readings, 'sys_name')[0]).toMatchObject({ value: 'snmpd-under-test', quality: 'good' });
    });

    it.each<[string, () => ResolvedSnmpAddress, RegExp]>([
      ['priv_protocol without its key', () => ({ ...authOnly(), priv_protocol: 'aes' }), /priv_key: privacy needs both priv_protocol and priv_key/],
      ['authPriv stated with auth keys only', () => ({ ...authOnly(), security_level: 'authPriv' }), /security_level: security_level authPriv needs/],
      ['a 7-character privacy passphrase', () => ({ ...authOnly(), priv_protocol: 'aes', priv_key: 'short12' }), /priv_key: passphrase shorter than 8 characters/],
    ])('%s: no transport, so no authNoPriv request reaches snmpd', (_name, address, message) => {
      expect(() => createNetSnmpTransport(address(), { timeoutMs: 1000 })).toThrow(expect.objectContaining({ code: 'DCIM_E_SNMP_V3_LEVEL', message: expect.stringMatching(message) }));
    });

    it('through the agent\'s reader factory the device reads bad with DCIM_E_SNMP_V3_LEVEL, and the authPriv device beside it reads', async () => {
      const logger = memoryLogger();
      const generic = loadProfiles().get('generic-snmp')!;
      const device = (id: string, address: Record<string, unknown>) => ({ device: DeviceSchema.parse({ id, profile: 'generic-snmp', address: { protocol: 'snmp', ...address } }), profile: generic });
      const { community: _c, ...downgrade } = { ...authOnly(), priv_protocol: 'aes' as const };
      const refused = createDeviceReader(device('ups-misconfigured', downgrade), { clock: new SystemClock(), logger });
      const good = createDeviceReader(device('ups-authpriv', { ...v3(), community: 'unused' }), { clock: new SystemClock(), logger });
      try {
        const bad = await refused.read();
        expect(bad.poll.requests).toBe(0);
        expect(bad.readings.length).toBeGreaterThan(0);
        expect(bad.readings.every((r) => r.quality === 'bad' && r.error === 'DCIM_E_SNMP_V3_LEVEL')).toBe(true);
        expect(logger.lines.find((l) => l.msg === 'device not polled: SNMPv3 settings refused')).toMatchObject({ device: 'ups-misconfigured' });
        const ok = await good.read();
        expect(ok.readings.find((r) => r.point === 'sys_name')).toMatchObject({ value: 'snmpd-under-test', quality: 'good' });
      } finally {
        await refused.close();
        await good.close();
      }
    });
  });

  it('v3 with an unknown user is refused the same way', async () => {
    const res = await read(v3({ user: 'nobody-here' }));
    expect(res.readings.every((r) => r.quality === 'bad')).toBe(true);
  });
});
