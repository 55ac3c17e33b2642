import net from 'node:net';
import { bindOrStop, boundPort } from './listener.js';
import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { RegisterImage } from '../encode/modbus-registers.js';
import type { RequestDecision } from '../faults/request-faults.js';
import { MbapFramer, RtuFramer, mbapFrame, rtuFrame, type FramerOutput, type ModbusRequestFrame } from './modbus-framing.js';
import { answerPdu, exceptionPdu } from './modbus-pdu.js';

/**
 * One Modbus server on one TCP host:port serving up to 247 devices told apart by unit id, as a
 * gateway in front of an RS-485 bus does. Two transports:
 * - `tcp`: Modbus TCP (MBAP). A unit nobody answers to gets exception 0x0B (gateway target
 *   device failed to respond, Modbus Application Protocol §7), as from a gateway.
 * - `rtu_over_tcp`: raw RTU frames with CRC, as a transparent serial gateway passes them. The
 *   bus is serial, so requests on a connection are answered one after the other, and an absent
 *   unit is silence, as on the wire.
 * Unit 0 is a broadcast: never answered. Everything here is read-only (writes: exception 2).
 *
 * modbus-serial's ServerTCP was the first choice; it answers quantity errors with exceptions 2
 * and 4 instead of 3, drops short PDUs silently, knows no RTU-over-TCP, and defers every
 * request by a timer; the framing and the application layer here are small and pure instead
 * (modbus-framing.ts, modbus-pdu.ts).
 */

export type ModbusTransport = 'tcp' | 'rtu_over_tcp';

export interface ModbusUnitBinding {
  key: string;
  unit_id: number;
  /** Changes whenever the image may have changed. */
  version(): number;
  image(): RegisterImage;
  decide(): RequestDecision;
}

export interface ModbusEndpointOptions {
  host: string;
  /** 0 binds an ephemeral port. */
  port: number;
  transport: ModbusTransport;
  units: readonly ModbusUnitBinding[];
  logger: Logger;
  clock: Clock;
  /** Units whose register image is kept between requests; default 512. */
  cached_units?: number;
}

export interface ModbusEndpointStats {
  connections: number;
  requests: number;
  answered: number;
  /** Exceptions answered, by code. */
  exceptions: Record<number, number>;
  /** Frames dropped by the framer (bad CRC, foreign protocol id, garbage). */
  malformed: number;
  /** Connections closed because their stream could not be framed. */
  closed_for_framing: number;
  unknown_unit: number;
  dropped_by_fault: number;
  delayed_by_fault: number;
  /** RTU requests dropped because the serial queue of their connection was full. */
  dropped_queue_full: number;
}

const GATEWAY_TARGET_FAILED = 0x0b;
/** Modbus serial addresses 1-247 (Modbus over Serial Line §2.2); 0 is the broadcast. */
const MAX_UNIT = 247;

interface Connection {
  socket: net.Socket;
  frame(chunk: Buffer): FramerOutput;
  /** RTU: the tail of the serial queue, and how many requests wait in it. */
  queue: Promise<void>;
  queued: number;
}

/** Requests an RTU gateway buffers while the bus is busy; beyond that it drops them. */
const RTU_QUEUE = 64;

export class ModbusEndpoint {
  private server: net.Server | undefined;
  private readonly units = new Map<number, ModbusUnitBinding>();
  private readonly cache = new Map<number, { version: number; image: RegisterImage }>();
  private readonly connections = new Set<Connection>();
  private readonly pending = new Set<TimerHandle>();
  private readonly counters: ModbusEndpointStats = {
    connections: 0,
    requests: 0,
    answered: 0,
    exceptions: {},
    malformed: 0,
    closed_for_framing: 0,
    unknown_unit: 0,
    dropped_by_fault: 0,
    delayed_by_fault: 0,
    dropped_queue_full: 0,
  };

  constructor(private readonly opts: ModbusEndpointOptions) {}

  /** Bind and serve; resolves with the bound TCP port. */
  async start(): Promise<number> {
    const where = `${this.opts.host}:${this.opts.port}`;
    for (const u of this.opts.units) {
      if (!Number.isInteger(u.unit_id) || u.unit_id < 1 || u.unit_id > MAX_UNIT) throw new Error(`${where}: device ${u.key}: unit id ${u.unit_id} is outside 1-${MAX_UNIT}`);
      const prev = this.units.get(u.unit_id);
      if (prev) throw new Error(`${where}: devices ${prev.key} and ${u.key} share unit id ${u.unit_id}`);
      this.units.set(u.unit_id, u);
    }
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await bindOrStop(server, (ready) => server.listen(this.opts.port, this.opts.host, ready), {
      failure: `Modbus server cannot listen on ${where}/tcp`,
      on_error: (e) => this.opts.logger.warn('modbus server error', { port: this.port(), error: e }),
      stop: () => this.stop(),
    });
    return this.port();
  }

  async stop(): Promise<void> {
    for (const t of this.pending) t.cancel();
    this.pending.clear();
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  port(): number {
    return boundPort(this.server, this.opts.port);
  }

  stats(): ModbusEndpointStats {
    return { ...this.counters, exceptions: { ...this.counters.exceptions } };
  }

  private accept(socket: net.Socket): void {
    this.counters.connections++;
    socket.setNoDelay(true);
    const rtu = this.opts.transport === 'rtu_over_tcp';
    const framer = rtu ? new RtuFramer() : new MbapFramer();
    const conn: Connection = {
      socket,
      frame: (chunk) => (framer instanceof RtuFramer ? framer.push(chunk, this.opts.clock.now()) : framer.push(chunk)),
      queue: Promise.resolve(),
      queued: 0,
    };
    this.connections.add(conn);
    socket.on('data', (chunk) => {
      const out = conn.frame(chunk);
      this.counters.malformed += out.dropped;
      if (out.fatal) {
        this.counters.closed_for_framing++;
        socket.destroy();
        return;
      }
      for (const f of out.frames) {
        if (!rtu) {
          void this.serve(conn, f);
        } else if (conn.queued >= RTU_QUEUE) {
          this.counters.dropped_queue_full++;
        } else {
          conn.queued++;
          conn.queue = conn.queue
            .then(() => this.serve(conn, f))
            .catch((e: unknown) => this.opts.logger.warn('modbus request failed', { port: this.port(), error: e as Error }))
            .finally(() => conn.queued--);
        }
      }
    });
    socket.on('error', (e) => this.opts.logger.debug('modbus socket error', { port: this.port(), error: e }));
    socket.on('close', () => this.connections.delete(conn));
  }

  /** Resolves when the answer is written (or known never to come). */
  private serve(conn: Connection, frame: ModbusRequestFrame): Promise<void> {
    this.counters.requests++;
    const rtu = this.opts.transport === 'rtu_over_tcp';
    if (frame.unit === 0) return Promise.resolve();
    const fc = frame.pdu[0] ?? 0;
    const unit = this.units.get(frame.unit);
    if (!unit) {
      this.counters.unknown_unit++;
      if (rtu) return Promise.resolve();
      return this.reply(conn, frame, exceptionPdu(fc, GATEWAY_TARGET_FAILED), 0);
    }
    let decision: RequestDecision;
    let pdu: Buffer;
    try {
      decision = unit.decide();
      if (decision.action === 'drop') {
        this.counters.dropped_by_fault++;
        return Promise.resolve();
      }
      pdu = decision.action === 'exception' ? exceptionPdu(fc, decision.code) : answerPdu(frame.pdu, () => this.imageOf(unit));
    } catch (e) {
      this.opts.logger.warn('modbus request failed', { device: unit.key, error: e as Error });
      return this.reply(conn, frame, exceptionPdu(fc, 4), 0);
    }
    return this.reply(conn, frame, pdu, decision.delay_ms);
  }

  private reply(conn: Connection, frame: ModbusRequestFrame, pdu: Buffer, delay_ms: number): Promise<void> {
    if (pdu[0]! & 0x80) this.counters.exceptions[pdu[1]!] = (this.counters.exceptions[pdu[1]!] ?? 0) + 1;
    const bytes = this.opts.transport === 'rtu_over_tcp' ? rtuFrame(frame.unit, pdu) : mbapFrame(frame.transaction, frame.unit, pdu);
    const write = () => {
      if (conn.socket.destroyed) return;
      this.counters.answered++;
      conn.socket.write(bytes);
    };
    if (delay_ms <= 0) {
      write();
      return Promise.resolve();
    }
    this.counters.delayed_by_fault++;
    return new Promise<void>((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.pending.delete(timer);
        write();
        resolve();
      }, delay_ms);
      this.pending.add(timer);
    });
  }

  private imageOf(unit: ModbusUnitBinding): RegisterImage {
    const version = unit.version();
    const hit = this.cache.get(unit.unit_id);
    if (hit && hit.version === version) return hit.image;
    const image = unit.image();
    this.cache.delete(unit.unit_id);
    this.cache.set(unit.unit_id, { version, image });
    if (this.cache.size > (this.opts.cached_units ?? 512)) this.cache.delete(this.cache.keys().next().value!);
    return image;
  }
}
