import { describe, expect, it } from 'vitest';
import { isPublicAddress, snmpV3Findings, type SnmpV3Settings } from '../../../agent/snmp/snmp-v3-security.js';

/** SNMPv3 settings → the level they run at, what refuses them and what is weak (RFC 3414 USM). */
const base: SnmpV3Settings = { host: '10.1.2.3', version: '3', user: 'ops', auth_protocol: 'sha256', auth_key: 'k', priv_protocol: 'aes', priv_key: 'k' };
const KEYS = { auth_key: 'auth-pass-123', priv_key: 'priv-pass-123' };
const without = (...fields: (keyof SnmpV3Settings)[]): SnmpV3Settings => {
  const a = { ...base };
  for (const f of fields) delete a[f];
  return a;
};
const codes = (a: SnmpV3Settings, keys: { auth_key?: string; priv_key?: string } = KEYS) => snmpV3Findings(a, keys).findings.map((f) => `${f.code} ${f.field}`);

describe('the security level a v3 address runs at', () => {
  it.each<[string, SnmpV3Settings, string]>([
    ['all keys', base, 'authPriv'],
    ['auth only', without('priv_protocol', 'priv_key'), 'authNoPriv'],
    ['no keys', without('auth_protocol', 'auth_key', 'priv_protocol', 'priv_key'), 'noAuthNoPriv'],
    ['explicit authPriv with all keys', { ...base, security_level: 'authPriv' }, 'authPriv'],
  ])('%s → %s, nothing refused', (_name, a, level) => {
    const r = snmpV3Findings(a, KEYS);
    expect(r.level).toBe(level);
    expect(r.findings.filter((f) => f.code === 'DCIM_E_SNMP_V3_LEVEL')).toEqual([]);
  });
});

describe('refused (DCIM_E_SNMP_V3_LEVEL), never run at a lower level', () => {
  it.each<[string, SnmpV3Settings, string[]]>([
    ['priv_protocol without priv_key (ran authNoPriv before)', without('priv_key'), ['DCIM_E_SNMP_V3_LEVEL priv_key']],
    ['priv_key without priv_protocol', without('priv_protocol'), ['DCIM_E_SNMP_V3_LEVEL priv_protocol']],
    ['auth_protocol without auth_key (ran noAuthNoPriv before)', without('auth_key', 'priv_protocol', 'priv_key'), ['DCIM_E_SNMP_V3_LEVEL auth_key']],
    ['auth_key without auth_protocol', without('auth_protocol', 'priv_protocol', 'priv_key'), ['DCIM_E_SNMP_V3_LEVEL auth_protocol']],
    ['privacy without authentication', without('auth_protocol', 'auth_key'), ['DCIM_E_SNMP_V3_LEVEL auth_protocol']],
    ['authPriv stated, auth keys only', { ...without('priv_protocol', 'priv_key'), security_level: 'authPriv' }, ['DCIM_E_SNMP_V3_LEVEL security_level']],
    ['authNoPriv stated, no keys at all', { ...without('auth_protocol', 'auth_key', 'priv_protocol', 'priv_key'), security_level: 'authNoPriv' }, ['DCIM_E_SNMP_V3_LEVEL security_level']],
    ['noAuthNoPriv stated, all keys (which level was meant?)', { ...base, security_level: 'noAuthNoPriv' }, ['DCIM_E_SNMP_V3_LEVEL security_level']],
    ['authNoPriv stated, priv keys too', { ...base, security_level: 'authNoPriv' }, ['DCIM_E_SNMP_V3_LEVEL security_level']],
    ['no user', without('user'), ['DCIM_E_SNMP_V3_LEVEL user']],
    ['v3 keys on a v2c device', { ...base, version: '2c' }, ['DCIM_E_SNMP_V3_LEVEL version']],
  ])('%s', (_name, a, expected) => {
    expect(codes(a)).toEqual(expected);
  });

  it.each([
    ['a 7-character auth passphrase', { auth_key: 'short12', priv_key: 'priv-pass-123' }, ['DCIM_E_SNMP_V3_LEVEL auth_key']],
    ['a 7-character priv passphrase', { auth_key: 'auth-pass-123', priv_key: 'short12' }, ['DCIM_E_SNMP_V3_LEVEL priv_key']],
    ['both empty', { auth_key: '', priv_key: '' }, ['DCIM_E_SNMP_V3_LEVEL auth_key', 'DCIM_E_SNMP_V3_LEVEL priv_key']],
    ['exactly 8 characters', { auth_key: '12345678', priv_key: 'abcdefgh' }, []],
    ['4 characters of 2 bytes each: 8 octets', { auth_key: 'éééé', priv_key: 'priv-pass-123' }, []],
  ])('RFC 3414 §11.2: %s', (_name, keys, expected) => {
    expect(codes(base, keys)).toEqual(expected);
  });

  it('a v2c device without v3 settings is fine, and says nothing', () => {
    expect(snmpV3Findings({ host: '203.0.113.9', version: '2c' }).findings).toEqual([]);
  });

  it('messages name what is missing', () => {
    const [f] = snmpV3Findings(without('priv_key'), KEYS).findings;
    expect(f?.message).toBe('privacy needs both priv_protocol and priv_key; only priv_protocol is set');
    const [g] = snmpV3Findings({ ...without('priv_protocol', 'priv_key'), security_level: 'authPriv' }, KEYS).findings;
    expect(g?.message).toBe('security_level authPriv needs auth_protocol, auth_key, priv_protocol and priv_key; the settings given make authNoPriv');
  });
});

describe('weak but working (DCIM_E_SNMP_V3_WEAK)', () => {
  it.each<[string, SnmpV3Settings, string[]]>([
    ['MD5 authentication', { ...base, auth_protocol: 'md5' }, ['DCIM_E_SNMP_V3_WEAK auth_protocol']],
    ['DES privacy', { ...base, priv_protocol: 'des' }, ['DCIM_E_SNMP_V3_WEAK priv_protocol']],
    ['authNoPriv to a public address', { ...without('priv_protocol', 'priv_key'), host: '203.0.113.9' }, ['DCIM_E_SNMP_V3_WEAK security_level']],
    ['noAuthNoPriv to a public IPv6 address', { ...without('auth_protocol', 'auth_key', 'priv_protocol', 'priv_key'), host: '2001:db8::5' }, ['DCIM_E_SNMP_V3_WEAK security_level']],
    ['authNoPriv on a private address', without('priv_protocol', 'priv_key'), []],
    ['authNoPriv to a host name (not resolved, not judged)', { ...without('priv_protocol', 'priv_key'), host: 'ups1.example.net' }, []],
    ['authPriv to a public address', { ...base, host: '203.0.113.9' }, []],
  ])('%s', (_name, a, expected) => {
    expect(codes(a)).toEqual(expected);
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['169.254.10.1', false],
    ['100.64.0.1', false],
    ['8.8.8.8', true],
    ['::1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['2001:db8::1', true],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['pdu1.local', false],
  ])('%s → %s', (host, expected) => {
    expect(isPublicAddress(host)).toBe(expected);
  });
});
