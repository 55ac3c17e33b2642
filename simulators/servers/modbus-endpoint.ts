import type { Server } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import type { Logger } from '../../contract/index.js';
import { MODBUS_EXCEPTION, readImage, type ModbusExceptionCode, type RegisterImage, type RegisterKind } from '../encode/modbus-registers.js';

/**
 * One Modbus TCP server (modbus-serial's ServerTCP) on one host:port, serving several
 * devices told apart by unit id, as a Modbus gateway in front of an RS-485 bus does. The
 * simulator is read-only: writes are refused with exception 2. A unit id nobody answers to
 * gets exception 11 (gateway target failed to respond), as from a gateway.
 *
 * ServerTCP parses frames itself; malformed ones (bad lengths, short PDUs) are dropped by it
 * without an answer, and every callback here is synchronous and total, so no request can
 * throw out of the event loop.
 */

export interface ModbusUnitBinding {
  device: string;
  unit_id: number;
  /** The register image to serve now. */
  image(): RegisterImage;
}

export interface ModbusEndpointOptions {
  host: string;
  /** 0 binds an ephemeral port. */
  port: number;
  units: readonly ModbusUnitBinding[];
  logger: Logger;
}

export interface ModbusEndpointStats {
  requests: number;
  /** Exceptions answered, by code. */
  exceptions: Record<number, number>;
  socket_errors: number;
}

class ModbusException extends Error {
  constructor(readonly modbusErrorCode: ModbusExceptionCode) {
    super(`modbus exception ${modbusErrorCode}`);
  }
}

export class ModbusEndpoint {
  private server: ServerTCP | undefined;
  private readonly units = new Map<number, ModbusUnitBinding>();
  private readonly counters: ModbusEndpointStats = { requests: 0, exceptions: {}, socket_errors: 0 };

  constructor(private readonly opts: ModbusEndpointOptions) {}

  /** Bind and serve; resolves with the bound TCP port. */
  async start(): Promise<number> {
    for (const u of this.opts.units) {
      const prev = this.units.get(u.unit_id);
      if (prev) throw new Error(`${this.opts.host}:${this.opts.port}: devices ${prev.device} and ${u.device} share unit id ${u.unit_id}`);
      this.units.set(u.unit_id, u);
    }
    // ServerTCP replaces a numeric 0 by 502; the string form reaches listen() as "any free port".
    const server = new ServerTCP(this.vector(), { host: this.opts.host, port: (this.opts.port === 0 ? '0' : this.opts.port) as number, unitID: 255 });
    this.server = server;
    server.on('socketError', (e: Error | null) => {
      this.counters.socket_errors++;
      this.opts.logger.debug('modbus socket error', { port: this.boundPort(), error: e ?? undefined });
    });
    server.on('error', (e: Error | null) => this.opts.logger.warn('modbus server error', { port: this.boundPort(), error: e ?? undefined }));
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', () => resolve());
      server.on('serverError', (e: Error | null) => reject(new Error(`Modbus server cannot listen on ${this.opts.host}:${this.opts.port}/tcp: ${e?.message ?? 'unknown error'}`)));
    }).catch(async (e: unknown) => {
      await this.stop();
      throw e;
    });
    return this.boundPort();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stats(): ModbusEndpointStats {
    return { ...this.counters, exceptions: { ...this.counters.exceptions } };
  }

  private boundPort(): number {
    // ServerTCP keeps its net.Server private and announces no address.
    const address = (this.server as unknown as { _server?: Server } | undefined)?._server?.address();
    return typeof address === 'object' && address !== null ? address.port : this.opts.port;
  }

  private read(kind: RegisterKind, address: number, count: number, unitId: number): number[] {
    this.counters.requests++;
    const unit = this.units.get(unitId);
    let code: ModbusExceptionCode;
    if (!unit) {
      code = MODBUS_EXCEPTION.gateway_target_failed;
    } else {
      try {
        const r = readImage(unit.image(), kind, address, count);
        if (r.ok) return r.words;
        code = r.exception;
      } catch (e) {
        this.opts.logger.warn('modbus read failed', { device: unit.device, kind, address, count, error: e as Error });
        code = MODBUS_EXCEPTION.server_device_failure;
      }
    }
    this.counters.exceptions[code] = (this.counters.exceptions[code] ?? 0) + 1;
    throw new ModbusException(code);
  }

  private refuseWrite(unitId: number): never {
    this.counters.requests++;
    const code = this.units.has(unitId) ? MODBUS_EXCEPTION.illegal_data_address : MODBUS_EXCEPTION.gateway_target_failed;
    this.counters.exceptions[code] = (this.counters.exceptions[code] ?? 0) + 1;
    throw new ModbusException(code);
  }

  /** ServerTCP picks the callback style by arity: these are the synchronous forms. */
  private vector(): IServiceVector {
    return {
      getInputRegister: (addr: number, unitID: number) => this.read('input', addr, 1, unitID)[0] ?? 0,
      getMultipleInputRegisters: (addr: number, length: number, unitID: number) => this.read('input', addr, length, unitID),
      getHoldingRegister: (addr: number, unitID: number) => this.read('holding', addr, 1, unitID)[0] ?? 0,
      getMultipleHoldingRegisters: (addr: number, length: number, unitID: number) => this.read('holding', addr, length, unitID),
      getCoil: (addr: number, unitID: number) => this.read('coil', addr, 1, unitID)[0] === 1,
      getDiscreteInput: (addr: number, unitID: number) => this.read('discrete', addr, 1, unitID)[0] === 1,
      setRegister: (_addr: number, _value: number, unitID: number) => this.refuseWrite(unitID),
      setRegisterArray: (_addr: number, _value: number[], unitID: number) => this.refuseWrite(unitID),
      setCoil: (_addr: number, _value: boolean, unitID: number) => this.refuseWrite(unitID),
    };
  }
}
