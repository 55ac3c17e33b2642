import { createRequire } from 'node:module';
import { DcimError, type SnmpAddress } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { Varbind } from './asn1-types.js';
import type { SnmpSocketPool } from './snmp-socket-pool.js';
import type { SnmpOutcome, SnmpTransport } from './snmp-transport.js';
import { snmpV3Findings } from './snmp-v3-security.js';

/**
 * SnmpTransport over net-snmp (markabrahams/node-net-snmp), the only file that loads it.
 * net-snmp ships no type declarations; the few members used are typed here instead of a
 * global `declare module`, which would clash with any other folder's declaration.
 *
 * net-snmp defaults we override (its README's session options): the version defaults to v1,
 * and retries happen inside the library where we cannot count them, so `retries: 0`. With a
 * pool, sessions share its sockets instead of opening one each.
 */
type Callback<T> = (error: (Error & { status?: number; code?: number }) | null, result: T) => void;

interface NetSnmpSession {
  get(oids: string[], cb: Callback<Varbind[]>): void;
  getNext(oids: string[], cb: Callback<Varbind[]>): void;
  getBulk(oids: string[], nonRepeaters: number, maxRepetitions: number, cb: Callback<Varbind[][]>): void;
  close(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

interface NetSnmpModule {
  createSession(target: string, community: string, options: Record<string, unknown>): NetSnmpSession;
  createV3Session(target: string, user: Record<string, unknown>, options: Record<string, unknown>): NetSnmpSession;
  Version1: number;
  Version2c: number;
  Version3: number;
  SecurityLevel: Record<'noAuthNoPriv' | 'authNoPriv' | 'authPriv', number>;
  AuthProtocols: Record<string, number>;
  PrivProtocols: Record<string, number>;
}

// Loaded at the first session, not with this module: v1/v2c GETs take the lean codec, so an agent
// that never walks a table nor speaks v3 never pays net-snmp's ~9 MB of RSS.
let loaded: NetSnmpModule | undefined;
const netSnmp = (): NetSnmpModule => (loaded ??= createRequire(import.meta.url)('net-snmp') as NetSnmpModule);

/** An SNMP address with its secrets already resolved. */
export type ResolvedSnmpAddress = Omit<SnmpAddress, 'community' | 'auth_key' | 'priv_key'> & {
  community: string;
  auth_key?: string | undefined;
  priv_key?: string | undefined;
};

export interface NetSnmpTransportOptions {
  timeoutMs: number;
  logger?: Logger;
  /** Share one UDP socket per address family with every other session (snmp-socket-pool.ts). */
  pool?: SnmpSocketPool;
}

/**
 * Throws DCIM_E_SNMP_V3_LEVEL when a v3 address cannot run at the level it states or implies: the
 * config loader refuses such a device already, and this keeps any other caller from downgrading.
 */
export function createNetSnmpTransport(address: ResolvedSnmpAddress, opts: NetSnmpTransportOptions): SnmpTransport {
  const refused = snmpV3Findings(address, address).findings.filter((f) => f.code === 'DCIM_E_SNMP_V3_LEVEL');
  if (refused.length > 0) throw new DcimError('DCIM_E_SNMP_V3_LEVEL', `SNMP ${address.host}:${address.port}: ${refused.map((f) => `${f.field}: ${f.message}`).join('; ')}`);
  return new NetSnmpTransport(address, opts);
}

/**
 * A class rather than closures: 10,000 devices hold 10,000 of these, and methods on the
 * prototype cost nothing per device.
 */
class NetSnmpTransport implements SnmpTransport {
  private session: NetSnmpSession | undefined;
  private closed = false;

  constructor(
    private readonly address: ResolvedSnmpAddress,
    private readonly opts: NetSnmpTransportOptions,
  ) {}

  get version(): '1' | '2c' | '3' {
    return this.address.version;
  }

  get(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>> {
    return this.call<Varbind[]>((s, cb) => s.get([...oids], cb));
  }

  getNext(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>> {
    return this.call<Varbind[]>((s, cb) => s.getNext([...oids], cb));
  }

  getBulk(oids: readonly string[], maxRepetitions: number): Promise<SnmpOutcome<Varbind[][]>> {
    return this.call<Varbind[][]>((s, cb) => s.getBulk([...oids], 0, maxRepetitions, cb));
  }

  resync(): void {
    // net-snmp keeps the engine time it learnt and refuses an agent whose clock went back
    // (it only ever advances its notion); a fresh session rediscovers engine id, boots and time.
    if (this.closed || this.address.version !== '3' || !this.session) return;
    shut(this.session);
    this.session = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.session) shut(this.session);
    this.session = undefined;
  }

  private call<T>(run: (s: NetSnmpSession, cb: Callback<T>) => void): Promise<SnmpOutcome<T>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ ok: false, kind: 'socket', message: 'session closed' });
      try {
        run((this.session ??= this.open()), (error, result) => resolve(error ? failure(error) : { ok: true, value: result }));
      } catch (e) {
        resolve({ ok: false, kind: 'invalid', message: (e as Error).message });
      }
    });
  }

  /** The session is opened on first use, and again after a resync. */
  private open(): NetSnmpSession {
    const a = this.address;
    const snmp = netSnmp();
    const options = {
      port: a.port,
      retries: 0,
      timeout: this.opts.timeoutMs,
      transport: a.host.includes(':') ? 'udp6' : 'udp4',
      version: a.version === '1' ? snmp.Version1 : a.version === '2c' ? snmp.Version2c : snmp.Version3,
      // Devices answer GETBULK with OIDs out of order sometimes; the reader judges order itself.
      backwardsGetNexts: true,
      ...(a.context !== undefined ? { context: a.context } : {}),
      ...(this.opts.pool ? { dgramModule: this.opts.pool.dgramModule() } : {}),
    };
    const s = a.version === '3' ? snmp.createV3Session(a.host, v3User(a), options) : snmp.createSession(a.host, a.community, options);
    // An unhandled 'error' event would crash the process; a socket error fails the request instead.
    s.on('error', (e) => this.opts.logger?.warn('snmp socket error', { host: a.host, port: a.port, error: e }));
    return s;
  }
}

function shut(s: NetSnmpSession): void {
  try {
    s.close();
  } catch {
    // already closed by a socket error
  }
}

/** net-snmp's ResponseInvalidCode values the reader acts on. */
const RESPONSE_COULD_NOT_DECRYPT = 4;
const RESPONSE_AUTH_FAILURE = 5;
const RESPONSE_NOT_IN_TIME_WINDOW = 14;

function failure(error: Error & { status?: number; code?: number }): SnmpOutcome<never> {
  switch (error.name) {
    case 'RequestTimedOutError':
      return { ok: false, kind: 'timeout', message: error.message };
    case 'RequestFailedError':
      if (error.status === 1) return { ok: false, kind: 'too_big', status: 1, message: error.message };
      return { ok: false, kind: 'error_status', ...(error.status !== undefined ? { status: error.status } : {}), message: error.message };
    case 'ResponseInvalidError':
      if (error.code === RESPONSE_NOT_IN_TIME_WINDOW || /not in time window/i.test(error.message)) return { ok: false, kind: 'time_window', message: error.message };
      if (error.code === RESPONSE_AUTH_FAILURE || error.code === RESPONSE_COULD_NOT_DECRYPT) return { ok: false, kind: 'auth', message: error.message };
      return { ok: false, kind: 'invalid', message: error.message };
    case 'RequestInvalidError':
      return { ok: false, kind: 'invalid', message: error.message };
    default:
      return { ok: false, kind: 'socket', message: error.message };
  }
}

/** SNMPv3 USM user at the level checked in createNetSnmpTransport, whose keys are then all present. */
function v3User(a: ResolvedSnmpAddress): Record<string, unknown> {
  const { level } = snmpV3Findings(a, a);
  const auth = level !== 'noAuthNoPriv';
  const priv = level === 'authPriv';
  const snmp = netSnmp();
  return {
    name: a.user ?? '',
    level: snmp.SecurityLevel[level],
    ...(auth ? { authProtocol: snmp.AuthProtocols[a.auth_protocol as string], authKey: a.auth_key } : {}),
    ...(priv ? { privProtocol: snmp.PrivProtocols[a.priv_protocol as string], privKey: a.priv_key } : {}),
  };
}
