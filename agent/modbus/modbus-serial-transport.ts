import { createRequire } from 'node:module';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import type { Logger } from '../../shared/log.js';
import { checkDeviceIdentification, type DeviceIdentification } from './device-identification.js';
import type { ModbusOutcome, ModbusRegisters, ModbusTransport } from './modbus-transport.js';
import type { RegisterKind } from './read-planner.js';

/**
 * ModbusTransport over modbus-serial (yaacov/node-modbus-serial), the only file that loads it.
 * - Modbus TCP (`connectTCP`), and RTU framing over TCP for transparent serial gateways
 *   (`connectTelnet`: raw RTU frames with CRC on the socket). Despite its name,
 *   `connectTcpRTUBuffered` sends MBAP (Modbus TCP) headers, so it cannot talk to an RTU gateway.
 * - modbus-serial has no request timeout unless one is set; we set it, and also guard each
 *   request and the TCP connect with our own timer, because a half-open socket can leave a
 *   transaction pending forever.
 * - One request in flight per connection: calls queue behind each other.
 * - After a timeout on RTU framing the connection is dropped: RTU has no transaction id, so a
 *   late answer would be taken for the next request's.
 */
export interface ModbusSerialTransportOptions {
  host: string;
  port: number;
  framing: 'tcp' | 'rtu_over_tcp';
  timeoutMs: number;
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** Basic identification is 3 short objects: one answer, a few at most for a device that splits them. */
const MAX_DEVICE_ID_REQUESTS = 4;

// The package's default export is the client class at run time; its typings say otherwise under NodeNext.
// Loaded at the first connection, not with this module: an agent without Modbus devices never loads it.
let loaded: typeof ModbusClient | undefined;
const modbusRtu = (): typeof ModbusClient => (loaded ??= createRequire(import.meta.url)('modbus-serial') as typeof ModbusClient);
type Client = ModbusClient;
type ModbusError = Error & { modbusCode?: number; errno?: string };

export function createModbusSerialTransport(opts: ModbusSerialTransportOptions): ModbusTransport {
  let client: Client | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const connectTimeoutMs = opts.connectTimeoutMs ?? Math.max(opts.timeoutMs, 1000);

  const drop = () => {
    const c = client;
    client = undefined;
    if (c) {
      try {
        c.destroy(() => undefined);
      } catch {
        // already gone
      }
    }
  };

  const connect = async (): Promise<ModbusOutcome<void>> => {
    if (client?.isOpen) return { ok: true, value: undefined };
    drop();
    const ModbusRTU = modbusRtu();
    const c = new ModbusRTU();
    c.setTimeout(opts.timeoutMs);
    // Without a listener an 'error' event would crash the process.
    c.on('error', (e) => opts.logger?.debug('modbus connection error', { host: opts.host, port: opts.port, error: e as Error }));
    const open = opts.framing === 'rtu_over_tcp' ? c.connectTelnet(opts.host, { port: opts.port }) : c.connectTCP(opts.host, { port: opts.port });
    const r = await guard(open.then(() => 'ok' as const), connectTimeoutMs);
    if (r === 'ok') {
      client = c;
      return { ok: true, value: undefined };
    }
    try {
      c.destroy(() => undefined);
    } catch {
      // the socket never opened
    }
    return { ok: false, kind: 'connect', message: r === 'timeout' ? `connect timed out after ${connectTimeoutMs} ms` : r.message };
  };

  const readOnce = async (unitId: number, kind: RegisterKind, address: number, count: number, timeoutMs: number): Promise<ModbusOutcome<ModbusRegisters>> => {
    const c = client;
    if (!c?.isOpen) return { ok: false, kind: 'connect', message: 'not connected' };
    c.setID(unitId);
    c.setTimeout(timeoutMs);
    const call: Promise<ModbusRegisters> =
      kind === 'holding'
        ? c.readHoldingRegisters(address, count).then((r) => ({ words: r.data }))
        : kind === 'input'
          ? c.readInputRegisters(address, count).then((r) => ({ words: r.data }))
          : kind === 'coil'
            ? c.readCoils(address, count).then((r) => ({ bits: r.data.slice(0, count) }))
            : c.readDiscreteInputs(address, count).then((r) => ({ bits: r.data.slice(0, count) }));
    let value: ModbusRegisters | undefined;
    const r = await guard(call.then((v) => ((value = v), 'ok' as const)), timeoutMs + 250);
    if (r === 'ok' && value) return { ok: true, value };
    const outcome = failure(r === 'ok' ? new Error('empty answer') : r === 'timeout' ? timeoutError() : r);
    if ((outcome.kind === 'connect' || (outcome.kind === 'timeout' && opts.framing === 'rtu_over_tcp') || r === 'timeout')) drop();
    return outcome;
  };

  const identifyOnce = async (unitId: number, timeoutMs: number, category: 'basic' | 'regular'): Promise<ModbusOutcome<DeviceIdentification>> => {
    const c = client;
    if (!c?.isOpen) return { ok: false, kind: 'connect', message: 'not connected' };
    c.setID(unitId);
    let answer: unknown;
    // Read code 1 (basic stream) or 2 (regular stream) from object 0. modbus-serial follows "more follows" by itself, as
    // often as a device says so: its follow-up requests go through writeFC43, so they are counted
    // here and the answer is refused past MAX_DEVICE_ID_REQUESTS. The guard and the dropped
    // connection cover a device that stops answering half-way.
    const fc43 = c as unknown as { writeFC43: (address: number, code: number, objectId: number, next: (err: Error | null, data?: { data: Record<number, string> }) => void) => void };
    const send = fc43.writeFC43.bind(c);
    let sent = 0;
    fc43.writeFC43 = (address, code, objectId, next) => {
      if (++sent > MAX_DEVICE_ID_REQUESTS) return next(Object.assign(new Error(`"more follows" after ${MAX_DEVICE_ID_REQUESTS} requests`), { name: 'DeviceIdentificationLoop' }), { data: {} });
      send(address, code, objectId, next);
    };
    try {
      const r = await guard(c.readDeviceIdentification(category === 'regular' ? 2 : 1, 0).then((v) => ((answer = v), 'ok' as const)), timeoutMs + 250);
      if (r !== 'ok') {
        if (r === 'timeout') drop();
        return failure(r === 'timeout' ? timeoutError() : r);
      }
      return checkDeviceIdentification(answer);
    } finally {
      Reflect.deleteProperty(c, 'writeFC43');
    }
  };

  return {
    get isOpen() {
      return client?.isOpen === true;
    },
    connect: () => serial(connect),
    read: (unitId, kind, address, count, timeoutMs) => serial(() => readOnce(unitId, kind, address, count, timeoutMs ?? opts.timeoutMs)),
    identify: (unitId, timeoutMs, category) => serial(() => identifyOnce(unitId, timeoutMs ?? opts.timeoutMs, category ?? 'basic')),
    close: () =>
      serial(async () => {
        const c = client;
        client = undefined;
        if (c) await new Promise<void>((resolve) => c.close(() => resolve()));
      }),
  };

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }
}

/** Resolve with 'ok', the error, or 'timeout' after `ms`, whichever comes first. */
function guard(p: Promise<'ok'>, ms: number): Promise<'ok' | 'timeout' | Error> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        // modbus-serial's errors are plain objects with name/errno/modbusCode, not Error instances.
        resolve(e !== null && typeof e === 'object' ? (e as Error) : new Error(String(e)));
      },
    );
  });
}

function timeoutError(): ModbusError {
  return Object.assign(new Error('Timed out'), { errno: 'ETIMEDOUT' });
}

function failure(e: ModbusError): Extract<ModbusOutcome<never>, { ok: false }> {
  if (typeof e.modbusCode === 'number') return { ok: false, kind: 'exception', code: e.modbusCode, message: e.message };
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') return { ok: false, kind: 'timeout', message: e.message };
  if (e.name === 'PortNotOpenError' || e.errno === 'ECONNREFUSED' || e.errno === 'ECONNRESET' || e.errno === 'EPIPE') return { ok: false, kind: 'connect', message: e.message };
  return { ok: false, kind: 'invalid', message: e.message };
}
