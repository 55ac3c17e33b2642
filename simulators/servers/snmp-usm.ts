import { createHash } from 'node:crypto';

/**
 * SNMPv3 User-based Security Model pieces the simulator's engine needs (RFC 3414), pure:
 * the engine id, the engine's notion of time, the time window, and the user table entry in
 * the shape net-snmp's message code expects.
 */

export type AuthProtocolName = 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type PrivProtocolName = 'des' | 'aes' | 'aes256b' | 'aes256r';

/** net-snmp's numeric constants (AuthProtocols, PrivProtocols, SecurityLevel in net-snmp 3.29). */
const AUTH: Record<AuthProtocolName, number> = { md5: 2, sha: 3, sha224: 4, sha256: 5, sha384: 6, sha512: 7 };
const PRIV: Record<PrivProtocolName, number> = { des: 2, aes: 4, aes256b: 6, aes256r: 8 };
export const SECURITY_LEVEL = { noAuthNoPriv: 1, authNoPriv: 2, authPriv: 3 } as const;

export interface UsmUserConfig {
  name: string;
  auth_protocol?: AuthProtocolName | undefined;
  auth_key?: string | undefined;
  priv_protocol?: PrivProtocolName | undefined;
  priv_key?: string | undefined;
}

/** A USM user as net-snmp's Message reads it (keys are passwords; net-snmp localises them). */
export interface NetSnmpUser {
  name: string;
  level: number;
  authProtocol?: number;
  authKey?: string;
  privProtocol?: number;
  privKey?: string;
}

/** RFC 3414 §11.2: passwords shorter than 8 characters are refused. */
const MIN_PASSWORD = 8;

export function usmUser(cfg: UsmUserConfig): { ok: true; user: NetSnmpUser } | { ok: false; reason: string } {
  if (cfg.name.length === 0 || cfg.name.length > 32) return { ok: false, reason: 'a USM user name has 1-32 characters' };
  if (cfg.priv_protocol !== undefined && cfg.auth_protocol === undefined) return { ok: false, reason: 'privacy needs authentication (authPriv)' };
  if (cfg.auth_protocol === undefined) return { ok: true, user: { name: cfg.name, level: SECURITY_LEVEL.noAuthNoPriv } };
  if ((cfg.auth_key ?? '').length < MIN_PASSWORD) return { ok: false, reason: `auth_key needs at least ${MIN_PASSWORD} characters` };
  const user: NetSnmpUser = { name: cfg.name, level: SECURITY_LEVEL.authNoPriv, authProtocol: AUTH[cfg.auth_protocol], authKey: cfg.auth_key! };
  if (cfg.priv_protocol === undefined) return { ok: true, user };
  if ((cfg.priv_key ?? '').length < MIN_PASSWORD) return { ok: false, reason: `priv_key needs at least ${MIN_PASSWORD} characters` };
  return { ok: true, user: { ...user, level: SECURITY_LEVEL.authPriv, privProtocol: PRIV[cfg.priv_protocol], privKey: cfg.priv_key! } };
}

export function sameUser(a: NetSnmpUser, b: NetSnmpUser): boolean {
  return a.name === b.name && a.level === b.level && a.authProtocol === b.authProtocol && a.authKey === b.authKey && a.privProtocol === b.privProtocol && a.privKey === b.privKey;
}

/**
 * A stable engine id (RFC 3411 SnmpEngineID, format 5 "octets") from a seed text such as
 * `site/host:port`, under the enterprise number reserved for documentation (RFC 5612), so a
 * manager that pins engine ids keeps working across simulator restarts.
 */
export function engineIdFor(seed: string): Buffer {
  const id = Buffer.alloc(13);
  id.writeUInt32BE((0x80000000 | 32473) >>> 0, 0);
  id.writeUInt8(5, 4);
  createHash('sha256').update(seed).digest().copy(id, 5, 0, 8);
  return id;
}

const MAX_INT32 = 2 ** 31 - 1;
/** 2025-01-01T00:00:00Z, the origin of the simulator's snmpEngineBoots. */
const BOOTS_EPOCH_MS = Date.UTC(2025, 0, 1);

/**
 * snmpEngineBoots for an engine started at `start_ms`: seconds since 2025-01-01 (at least 1).
 * RFC 3414 §2.2.2 wants boots to grow with every re-initialisation, or a manager that cached
 * the old engine time refuses the restarted one; the simulator keeps no state between runs, so
 * the start time stands in for a persisted counter (valid until 2093).
 */
export function engineBootsAt(start_ms: number): number {
  return Math.min(MAX_INT32 - 1, Math.max(1, Math.floor((start_ms - BOOTS_EPOCH_MS) / 1000)));
}

export interface EngineTime {
  boots: number;
  time: number;
}

/** RFC 3414 §3.2 step 7a: a message is accepted within 150 s of the engine's time. */
export const TIME_WINDOW_S = 150;

/**
 * snmpEngineBoots/snmpEngineTime at `now_ms` for an engine started at `start_ms`: seconds since
 * start, plus the clock skew a fault gives it (never below 0).
 */
export function engineTime(boots: number, start_ms: number, now_ms: number, skew_ms: number): EngineTime {
  const time = Math.max(0, Math.floor((now_ms - start_ms + skew_ms) / 1000));
  if (time > MAX_INT32) return { boots: Math.min(MAX_INT32, boots + Math.floor(time / (MAX_INT32 + 1))), time: time % (MAX_INT32 + 1) };
  return { boots, time };
}

export function inTimeWindow(local: EngineTime, msg: EngineTime): boolean {
  if (local.boots === MAX_INT32) return false;
  if (msg.boots !== local.boots) return false;
  return Math.abs(msg.time - local.time) <= TIME_WINDOW_S;
}
