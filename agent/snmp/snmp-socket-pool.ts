import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { LEAN_ID_MAX, LEAN_ID_MIN } from './lean-get-codec.js';
import { messageKey } from './message-id.js';

/**
 * One UDP socket per address family for every SNMP session of the agent.
 *
 * net-snmp opens a socket per session (its createSession), so 10,000 devices would
 * hold 10,000 file descriptors: Telegraf hit "too many open files" near 1,800 devices. net-snmp
 * takes a `dgramModule` option, so each session gets a light stand-in socket from this pool
 * instead. Outgoing datagrams go through the shared socket; each answer is handed to the session
 * whose request carried its request-id (v1/v2c) or msgID (v3), read from the clear-text header
 * (message-id.ts). An answer nobody asked for, or from another address than the one asked, is
 * dropped and counted.
 *
 * Ids are remembered in two generations that rotate every `idLifetimeMs`: an entry lives at
 * least that long (longer than any request timeout) and memory stays bounded by the request
 * rate, with no timer.
 *
 * The lean GET path (lean-snmp-transport.ts) sends through the same socket without a net-snmp
 * session: the pool hands out its request ids (a range net-snmp never uses), routes the answer
 * to the waiting request, and times requests out itself with one timer for all of them (the
 * earliest deadline; requests of one timeout length expire in the order sent), not one per request.
 */
export interface SnmpSocketPoolOptions {
  clock: Clock;
  logger?: Logger;
  /** How long a request id is remembered at least; default 120 s (timeouts are ≤ 60 s). */
  idLifetimeMs?: number;
  /** Kernel receive buffer asked for each socket; bursts of answers must not overflow it. */
  recvBufferBytes?: number;
}

export interface SnmpSocketPoolStats {
  sockets: number;
  sessions: number;
  sent: number;
  received: number;
  /** Answers with no waiting request (late after a timeout, or never asked). */
  stray: number;
  /** Datagrams whose header could not be read. */
  malformed: number;
  send_errors: number;
  socket_errors: number;
  /** Lean GETs sent, and how they ended besides a usable answer. */
  requests: number;
  timeouts: number;
  /** Answers to a lean GET that could not be used (DCIM_E_SNMP_MALFORMED): bad BER, another community, version or PDU. */
  invalid_answers: number;
  /** Lean GETs in flight now. */
  pending: number;
}

/** What an agent that is not running reports: no sockets, nothing counted. */
export function emptySnmpSocketPoolStats(): SnmpSocketPoolStats {
  return { sockets: 0, sessions: 0, sent: 0, received: 0, stray: 0, malformed: 0, send_errors: 0, socket_errors: 0, requests: 0, timeouts: 0, invalid_answers: 0, pending: 0 };
}

/**
 * One lean request in flight. The pool owns its id and deadline; `answer` gets the datagram
 * that carried its id from its target, `fail` a timeout or a socket error. Exactly one of them
 * is called, once.
 */
export interface PooledRequest {
  readonly family: Family;
  readonly address: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Set by the pool. */
  id: number;
  deadline: number;
  settled: boolean;
  answer(msg: Buffer): void;
  fail(kind: 'timeout' | 'socket', message: string): void;
}

/** Requests of one timeout length, oldest first; `head` skips the ones already gone. */
interface TimeoutQueue {
  items: PooledRequest[];
  head: number;
}

export type Family = 'udp4' | 'udp6';

interface Pending {
  session: PooledSocket;
  address: string;
  port: number;
}

export const DEFAULT_ID_LIFETIME_MS = 120_000;
const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

export class SnmpSocketPool {
  private readonly sockets = new Map<Family, dgram.Socket>();
  private current = new Map<number, Pending[]>();
  private previous = new Map<number, Pending[]>();
  private rotatedAt: number;
  private closed = false;
  readonly sessions = new Set<PooledSocket>();
  private readonly counters = { sent: 0, received: 0, stray: 0, malformed: 0, send_errors: 0, socket_errors: 0, requests: 0, timeouts: 0, invalid_answers: 0 };
  private readonly requests = new Map<number, PooledRequest>();
  private readonly queues = new Map<number, TimeoutQueue>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private nextId = LEAN_ID_MIN;
  private readonly expire = () => this.onTimer();

  constructor(private readonly opts: SnmpSocketPoolOptions) {
    this.rotatedAt = opts.clock.now();
  }

  private module: { createSocket(type: string): PooledSocket } | undefined;

  /** What net-snmp's `dgramModule` option takes (one object, shared by every session). */
  dgramModule(): { createSocket(type: string): PooledSocket } {
    return (this.module ??= { createSocket: (type: string) => this.open(type === 'udp6' ? 'udp6' : 'udp4') });
  }

  stats(): SnmpSocketPoolStats {
    return { sockets: this.sockets.size, sessions: this.sessions.size, ...this.counters, pending: this.requests.size };
  }

  /** A request id of the lean range that no request in flight holds. */
  requestId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= LEAN_ID_MAX ? LEAN_ID_MIN : id + 1;
      if (!this.requests.has(id)) return id;
    }
  }

  /** Send a lean request whose datagram carries `r.id` (from requestId()); the pool settles it. */
  request(r: PooledRequest, buf: Buffer): void {
    if (this.closed) return r.fail('socket', 'SNMP socket pool closed');
    let socket: dgram.Socket;
    try {
      socket = this.socket(r.family);
    } catch (e) {
      this.counters.send_errors++;
      return r.fail('socket', (e as Error).message);
    }
    r.settled = false;
    r.deadline = this.opts.clock.now() + r.timeoutMs;
    this.requests.set(r.id, r);
    this.enqueue(r);
    this.counters.sent++;
    this.counters.requests++;
    socket.send(buf, r.port, r.address, (e) => {
      if (!e) return;
      this.counters.send_errors++;
      if (this.settle(r)) r.fail('socket', e.message);
    });
  }

  /** @internal the lean transport counts an answer it could not use. */
  countInvalidAnswer(): void {
    this.counters.invalid_answers++;
  }

  /** Take `r` out of the requests in flight; false when it was settled already. */
  private settle(r: PooledRequest): boolean {
    if (r.settled) return false;
    r.settled = true;
    if (this.requests.get(r.id) === r) this.requests.delete(r.id);
    return true;
  }

  private enqueue(r: PooledRequest): void {
    let q = this.queues.get(r.timeoutMs);
    if (!q) {
      q = { items: [], head: 0 };
      this.queues.set(r.timeoutMs, q);
    }
    q.items.push(r);
    if (r.deadline < this.timerAt) this.arm(r.deadline);
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(this.expire, Math.max(0, at - this.opts.clock.now()));
  }

  /** Time out every request past its deadline, drop the settled ones from the queue heads, re-arm for the next deadline. */
  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.opts.clock.now();
    let next = Infinity;
    for (const [ms, q] of this.queues) {
      const { items } = q;
      while (q.head < items.length) {
        const r = items[q.head] as PooledRequest;
        if (!r.settled && r.deadline > now) break;
        q.head++;
        if (!r.settled && this.settle(r)) {
          this.counters.timeouts++;
          r.fail('timeout', `no answer within ${r.timeoutMs} ms`);
        }
      }
      if (q.head === items.length) {
        this.queues.delete(ms);
        continue;
      }
      // Compact now and then, so a queue holds about the requests of one timeout period.
      if (q.head > 1024 && q.head * 2 > items.length) {
        items.splice(0, q.head);
        q.head = 0;
      }
      next = Math.min(next, (items[q.head] as PooledRequest).deadline);
    }
    if (next < Infinity) this.arm(next);
  }

  /** Close the shared sockets; sessions still open see their requests fail. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
    this.queues.clear();
    for (const r of [...this.requests.values()]) if (this.settle(r)) r.fail('socket', 'SNMP socket pool closed');
    for (const s of [...this.sessions]) s.close();
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    this.current.clear();
    this.previous.clear();
  }

  private open(family: Family): PooledSocket {
    const s = new PooledSocket(this, family);
    this.sessions.add(s);
    return s;
  }

  /** @internal PooledSocket.send */
  send(session: PooledSocket, buf: Buffer, port: number, address: string, cb: (e: Error | null, bytes?: number) => void): void {
    if (this.closed) return cb(new Error('SNMP socket pool closed'));
    const key = messageKey(buf);
    if (key) this.remember(key.id, { session, address, port });
    let socket: dgram.Socket;
    try {
      socket = this.socket(session.family);
    } catch (e) {
      this.counters.send_errors++;
      return cb(e as Error);
    }
    this.counters.sent++;
    socket.send(buf, port, address, (e, bytes) => {
      if (e) this.counters.send_errors++;
      cb(e ?? null, bytes);
    });
  }

  /** @internal PooledSocket.close */
  forget(session: PooledSocket): void {
    this.sessions.delete(session);
  }

  private socket(family: Family): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket({ type: family, recvBufferSize: this.opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER });
    const socket = s;
    socket.on('message', (msg, rinfo) => this.deliver(msg, rinfo));
    socket.on('error', (e) => {
      // A broken socket is replaced on the next send; requests in flight time out.
      this.counters.socket_errors++;
      this.opts.logger?.warn('snmp socket error', { family, error: e });
      if (this.sockets.get(family) === socket) this.sockets.delete(family);
      try {
        socket.close();
      } catch {
        // already closed
      }
    });
    // Pending requests keep the process alive through their own timers; the socket must not.
    socket.unref();
    this.sockets.set(family, socket);
    return socket;
  }

  private remember(id: number, p: Pending): void {
    this.rotate();
    const list = this.current.get(id);
    if (list) list.push(p);
    else this.current.set(id, [p]);
  }

  private rotate(): void {
    const now = this.opts.clock.now();
    if (now - this.rotatedAt < (this.opts.idLifetimeMs ?? DEFAULT_ID_LIFETIME_MS)) return;
    this.previous = this.current;
    this.current = new Map();
    this.rotatedAt = now;
  }

  /** The key of a datagram cut short, only when it names a lean request in flight from its sender. */
  private cutLeanKey(msg: Buffer, rinfo: dgram.RemoteInfo): { id: number } | undefined {
    const key = messageKey(msg, { cut: true });
    if (!key || key.id < LEAN_ID_MIN) return undefined;
    const r = this.requests.get(key.id);
    return r && r.port === rinfo.port && sameHost(r.address, rinfo.address) ? key : undefined;
  }

  private deliver(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.received++;
    // A lean answer cut short still names its request: it fails now (DCIM_E_SNMP_MALFORMED), not at the timeout.
    const key = messageKey(msg) ?? this.cutLeanKey(msg, rinfo);
    if (!key) {
      this.counters.malformed++;
      return;
    }
    if (key.id >= LEAN_ID_MIN) {
      const r = this.requests.get(key.id);
      if (r && r.port === rinfo.port && sameHost(r.address, rinfo.address)) {
        this.settle(r);
        r.answer(msg);
        return;
      }
    }
    const owner = take(this.current, key.id, rinfo) ?? take(this.previous, key.id, rinfo);
    if (!owner || !this.sessions.has(owner)) {
      this.counters.stray++;
      return;
    }
    owner.emit('message', msg, rinfo);
  }
}

/** The pending entry for `id` whose target sent this answer; removed once taken. */
function take(map: Map<number, Pending[]>, id: number, rinfo: dgram.RemoteInfo): PooledSocket | undefined {
  const list = map.get(id);
  if (!list) return undefined;
  const i = list.findIndex((p) => p.port === rinfo.port && sameHost(p.address, rinfo.address));
  if (i < 0) return undefined;
  const [p] = list.splice(i, 1);
  if (list.length === 0) map.delete(id);
  return p?.session;
}

/** `localhost` resolves to 127.0.0.1; v4-mapped v6 answers name the v4 address. */
function sameHost(asked: string, answered: string): boolean {
  if (asked === answered) return true;
  if (asked === 'localhost') return answered === '127.0.0.1' || answered === '::1';
  return answered === `::ffff:${asked}`;
}

/**
 * The stand-in socket one net-snmp session holds: the members net-snmp's Session uses
 * (send, on, ref, unref, close, bind), routed through the pool.
 */
export class PooledSocket extends EventEmitter {
  private closed = false;

  constructor(
    private readonly pool: SnmpSocketPool,
    readonly family: Family,
  ) {
    super();
  }

  send(buf: Buffer, offset: number, length: number, port: number, address: string, cb: (e: Error | null, bytes?: number) => void): void {
    if (this.closed) return cb(new Error('session closed'));
    const bytes = offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length);
    this.pool.send(this, bytes, port, address, cb);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.forget(this);
    // net-snmp cancels the session's requests on 'close', as a real socket would emit it.
    queueMicrotask(() => this.emit('close'));
  }

  /** A session with a fixed source port or address cannot share a socket. */
  bind(): this {
    throw new Error('pooled SNMP sockets do not bind: leave sourceAddress/sourcePort unset');
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
