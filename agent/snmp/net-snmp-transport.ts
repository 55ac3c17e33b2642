import { createRequire } from 'node:module';
import type { Logger, SnmpAddress } from '../../contract/index.js';
import type { Varbind } from './asn1-types.js';
import type { SnmpSocketPool } from './snmp-socket-pool.js';
import type { SnmpOutcome, SnmpTransport } from './snmp-transport.js';

/**
 * SnmpTransport over net-snmp (markabrahams/node-net-snmp), the only file that loads it.
 * net-snmp ships no type declarations; the few members used are typed here instead of a
 * global `declare module`, which would clash with any other folder's declaration.
 *
 * Library defaults we override (research/agent-peers.md §5.1): the version defaults to v1,
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

const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmpModule;

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

export function createNetSnmpTransport(address: ResolvedSnmpAddress, opts: NetSnmpTransportOptions): SnmpTransport {
  const options = {
    port: address.port,
    retries: 0,
    timeout: opts.timeoutMs,
    transport: address.host.includes(':') ? 'udp6' : 'udp4',
    version: address.version === '1' ? snmp.Version1 : address.version === '2c' ? snmp.Version2c : snmp.Version3,
    // Devices answer GETBULK with OIDs out of order sometimes; the reader judges order itself.
    backwardsGetNexts: true,
    ...(address.context !== undefined ? { context: address.context } : {}),
    ...(opts.pool ? { dgramModule: opts.pool.dgramModule() } : {}),
  };
  const open = (): NetSnmpSession => {
    const s = address.version === '3' ? snmp.createV3Session(address.host, v3User(address), options) : snmp.createSession(address.host, address.community, options);
    // An unhandled 'error' event would crash the process; a socket error fails the request instead.
    s.on('error', (e) => opts.logger?.warn('snmp socket error', { host: address.host, port: address.port, error: e }));
    return s;
  };
  let session = open();
  let closed = false;

  const call = <T>(run: (s: NetSnmpSession, cb: Callback<T>) => void): Promise<SnmpOutcome<T>> =>
    new Promise((resolve) => {
      if (closed) return resolve({ ok: false, kind: 'socket', message: 'session closed' });
      try {
        run(session, (error, result) => resolve(error ? failure(error) : { ok: true, value: result }));
      } catch (e) {
        resolve({ ok: false, kind: 'invalid', message: (e as Error).message });
      }
    });
  const shut = (s: NetSnmpSession) => {
    try {
      s.close();
    } catch {
      // already closed by a socket error
    }
  };

  return {
    version: address.version,
    get: (oids) => call<Varbind[]>((s, cb) => s.get([...oids], cb)),
    getNext: (oids) => call<Varbind[]>((s, cb) => s.getNext([...oids], cb)),
    getBulk: (oids, maxRepetitions) => call<Varbind[][]>((s, cb) => s.getBulk([...oids], 0, maxRepetitions, cb)),
    resync: () => {
      // net-snmp keeps the engine time it learnt and refuses an agent whose clock went back
      // (it only ever advances its notion); a fresh session rediscovers engine id, boots and time.
      if (closed || address.version !== '3') return;
      shut(session);
      session = open();
    },
    close: () => {
      if (closed) return;
      closed = true;
      shut(session);
    },
  };
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

/** SNMPv3 USM user; the level follows from which keys are present. */
function v3User(a: ResolvedSnmpAddress): Record<string, unknown> {
  const auth = a.auth_protocol !== undefined && a.auth_key !== undefined;
  const priv = auth && a.priv_protocol !== undefined && a.priv_key !== undefined;
  return {
    name: a.user ?? '',
    level: priv ? snmp.SecurityLevel.authPriv : auth ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.noAuthNoPriv,
    ...(auth ? { authProtocol: snmp.AuthProtocols[a.auth_protocol as string], authKey: a.auth_key } : {}),
    ...(priv ? { privProtocol: snmp.PrivProtocols[a.priv_protocol as string], privKey: a.priv_key } : {}),
  };
}
