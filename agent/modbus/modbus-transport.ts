import type { DeviceIdentification } from './device-identification.js';
import type { RegisterKind } from './read-planner.js';

/**
 * The Modbus port: one connection to one endpoint (a device or an RTU gateway), one request
 * per call, no retries. The reader owns planning, retries and decoding.
 */
export type ModbusFailureKind =
  /** No answer within the request timeout. */
  | 'timeout'
  /** The device answered with an exception; `code` holds it (2 illegal address, 6 busy …). */
  | 'exception'
  /** The connection could not be opened, or was lost. */
  | 'connect'
  /** An answer we could not use (CRC error, wrong length …). */
  | 'invalid';

export type ModbusOutcome<T> = { ok: true; value: T } | { ok: false; kind: ModbusFailureKind; code?: number; message: string };

/** Exception codes the reader acts on (Modbus Application Protocol v1.1b3 §7). */
export const ModbusException = { illegalFunction: 1, illegalAddress: 2, illegalValue: 3, acknowledge: 5, busy: 6 } as const;

export interface ModbusRegisters {
  /** 16-bit words for holding/input, in wire order. */
  words?: number[];
  /** States for coil/discrete. */
  bits?: boolean[];
}

export interface ModbusTransport {
  readonly isOpen: boolean;
  /** Open the connection if it is not open. */
  connect(): Promise<ModbusOutcome<void>>;
  /**
   * One read request for `unitId`. Requests on one transport are serialised: Modbus TCP
   * devices and RTU gateways mix up overlapping transactions (node-modbus-serial#264).
   * `timeoutMs` is this request's (the device's own policy on a shared gateway link); default
   * the transport's.
   */
  read(unitId: number, kind: RegisterKind, address: number, count: number, timeoutMs?: number): Promise<ModbusOutcome<ModbusRegisters>>;
  /**
   * Read Device Identification (43/14), checked (device-identification.ts): the basic category
   * (read code 1) unless `category` asks for the regular one (read code 2: also VendorUrl,
   * ProductName, ModelName), which only a device whose conformity level names it answers.
   * Absent on transports that cannot send it.
   */
  identify?(unitId: number, timeoutMs?: number, category?: 'basic' | 'regular'): Promise<ModbusOutcome<DeviceIdentification>>;
  close(): Promise<void>;
}
