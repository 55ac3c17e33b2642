import { BlockList, isIP } from 'node:net';
import type { SnmpAddress } from '../../contract/index.js';

/**
 * SNMPv3 USM settings checked before a packet is sent (RFC 3414). The security level is the one
 * the config states (`security_level`) or, without it, the one its keys imply; a device whose
 * settings cannot reach that level is refused, never run at a lower one. Weak but working settings
 * are findings of their own, for `dcim agent --check` and the start log.
 */
export type SnmpSecurityLevel = 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';

export interface SnmpV3Finding {
  /** LEVEL: the device is refused. WEAK: it runs, and the operator is told. */
  code: 'DCIM_E_SNMP_V3_LEVEL' | 'DCIM_E_SNMP_V3_WEAK';
  /** The address field at fault (`auth_key`, `security_level`, …). */
  field: string;
  message: string;
}

/** The address fields this needs; secrets by presence, or resolved to check their length. */
export type SnmpV3Settings = Pick<SnmpAddress, 'host' | 'version' | 'user' | 'security_level' | 'auth_protocol' | 'priv_protocol'> & {
  auth_key?: unknown;
  priv_key?: unknown;
};

/** RFC 3414 §11.2: passphrases shorter than 8 octets must not be used (too few to derive a key from). */
export const MIN_PASSPHRASE_BYTES = 8;

export function snmpV3Findings(a: SnmpV3Settings, resolved: { auth_key?: string | undefined; priv_key?: string | undefined } = {}): { level: SnmpSecurityLevel; findings: SnmpV3Finding[] } {
  const findings: SnmpV3Finding[] = [];
  const refuse = (field: string, message: string) => findings.push({ code: 'DCIM_E_SNMP_V3_LEVEL', field, message });
  const weak = (field: string, message: string) => findings.push({ code: 'DCIM_E_SNMP_V3_WEAK', field, message });
  const has = (v: unknown) => v !== undefined;

  if (a.version !== '3') {
    // v1/v2c would ignore these and send the community in clear: the operator meant v3.
    const v3Only = (['user', 'security_level', 'auth_protocol', 'auth_key', 'priv_protocol', 'priv_key'] as const).filter((f) => has(a[f]));
    if (v3Only.length > 0) refuse('version', `SNMPv3 settings (${v3Only.join(', ')}) on a version ${a.version} device would be ignored and the community sent instead; set version: "3" or remove them`);
    return { level: 'noAuthNoPriv', findings };
  }

  if (a.user === undefined || a.user.length === 0) refuse('user', 'SNMPv3 needs a USM user name');
  const auth = has(a.auth_protocol) || has(a.auth_key);
  const priv = has(a.priv_protocol) || has(a.priv_key);
  if (has(a.auth_protocol) !== has(a.auth_key)) refuse(has(a.auth_key) ? 'auth_protocol' : 'auth_key', `authentication needs both auth_protocol and auth_key; only ${has(a.auth_key) ? 'auth_key' : 'auth_protocol'} is set`);
  if (has(a.priv_protocol) !== has(a.priv_key)) refuse(has(a.priv_key) ? 'priv_protocol' : 'priv_key', `privacy needs both priv_protocol and priv_key; only ${has(a.priv_key) ? 'priv_key' : 'priv_protocol'} is set`);
  if (priv && !auth) refuse('auth_protocol', 'privacy without authentication does not exist in SNMPv3 USM: set auth_protocol and auth_key too');

  const implied: SnmpSecurityLevel = priv ? 'authPriv' : auth ? 'authNoPriv' : 'noAuthNoPriv';
  const level = a.security_level ?? implied;
  if (a.security_level !== undefined && a.security_level !== implied) {
    const needs = { noAuthNoPriv: 'no auth or priv settings', authNoPriv: 'auth_protocol and auth_key, and no priv settings', authPriv: 'auth_protocol, auth_key, priv_protocol and priv_key' }[a.security_level];
    refuse('security_level', `security_level ${a.security_level} needs ${needs}; the settings given make ${implied}`);
  }

  for (const [field, value] of [['auth_key', resolved.auth_key], ['priv_key', resolved.priv_key]] as const) {
    if (value !== undefined && Buffer.byteLength(value, 'utf8') < MIN_PASSPHRASE_BYTES) refuse(field, `passphrase shorter than ${MIN_PASSPHRASE_BYTES} characters (RFC 3414 forbids it)`);
  }

  if (a.auth_protocol === 'md5') weak('auth_protocol', 'HMAC-MD5 authentication is weak: use sha256 or stronger if the device has it');
  if (a.priv_protocol === 'des') weak('priv_protocol', 'DES privacy (56-bit key) can be brute-forced: use aes or aes256b/aes256r if the device has it');
  if (level !== 'authPriv' && isPublicAddress(a.host)) weak('security_level', `${level} to the public address ${a.host}: readings cross the network ${level === 'noAuthNoPriv' ? 'unauthenticated and ' : ''}in clear; use authPriv`);
  return { level, findings };
}

/** Loopback, RFC 1918, link-local, shared (CGNAT) and unique-local ranges: not the internet. */
const LOCAL = new BlockList();
for (const [net, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['127.0.0.0', 8], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) LOCAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) LOCAL.addSubnet(net, bits, 'ipv6');

/** An IP literal outside the local ranges. A host name is not resolved here, so it is never called public. */
export function isPublicAddress(host: string): boolean {
  const v = isIP(host);
  if (v === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return !LOCAL.check(mapped[1]!, 'ipv4');
  return !LOCAL.check(host, v === 4 ? 'ipv4' : 'ipv6');
}
