import { createRequire } from 'node:module';
import type { SnmpServedValue } from '../encode/snmp-values.js';
import type { NetSnmpUser } from './snmp-usm.js';
import type { AnswerVarbind } from './snmp-view.js';

/**
 * net-snmp's SNMP message codec (BER, v1/v2c/v3, USM authentication and privacy), used without
 * its Agent. The Agent keeps one MIB, answers every community with an O(communities) scan, pins
 * snmpEngineTime at 10, never checks the engine id or the time window, and sends contexts to a
 * proxy forwarder; the simulator needs none of that, only the codec. net-snmp does not export
 * its Message class, so one Agent is built over a socket-less dgram stand-in, a constant probe
 * is parsed through it, and the class is taken from the result. Checked against net-snmp
 * 3.29.2 (pinned in package.json); test/simulators/servers/snmp-endpoint.test.ts drives every seam used
 * (v1, v2c and v3 requests, reports, malformed datagrams) over the wire.
 */

export interface NetSnmpVarbind {
  oid: string;
  type: number;
  value: unknown;
}

export interface NetSnmpPdu {
  type: number;
  id: number;
  varbinds: NetSnmpVarbind[];
  nonRepeaters?: number;
  maxRepetitions?: number;
  contextName?: string;
  contextEngineID?: Buffer;
  errorStatus?: number;
  errorIndex?: number;
  getResponsePduForRequest(): NetSnmpPdu;
}

export interface NetSnmpSecurityParameters {
  msgAuthoritativeEngineID: Buffer;
  msgAuthoritativeEngineBoots: number;
  msgAuthoritativeEngineTime: number;
  msgUserName: string;
}

export interface NetSnmpMessage {
  version: number;
  community?: string;
  /** Null for an encrypted v3 message until decryptPdu succeeds. */
  pdu: NetSnmpPdu | null;
  user?: NetSnmpUser;
  msgGlobalData?: { msgID: number; msgMaxSize: number; msgFlags: number; msgSecurityModel: number };
  msgSecurityParameters?: NetSnmpSecurityParameters;
  checkAuthentication(user: NetSnmpUser, cb: (e: Error | null) => void): boolean;
  decryptPdu(user: NetSnmpUser, cb: (e: Error | null) => void): boolean;
  createResponseForRequest(pdu: NetSnmpPdu): NetSnmpMessage;
  createReportResponseMessage(engine: { engineID: Buffer; engineBoots: number; engineTime: number }, context: string, errorType?: string): NetSnmpMessage;
  toBuffer(): Buffer;
}

interface NetSnmp {
  createAgent(options: object, callback: () => void): { listener: { constructor: { processIncoming(buffer: Buffer, authorizer: object, cb: () => void): NetSnmpMessage | undefined } } };
  ObjectType: Record<string, number>;
  PduType: Record<string, number>;
}

const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmp;

export const PDU = {
  get: snmp.PduType.GetRequest!,
  getNext: snmp.PduType.GetNextRequest!,
  response: snmp.PduType.GetResponse!,
  set: snmp.PduType.SetRequest!,
  getBulk: snmp.PduType.GetBulkRequest!,
  report: snmp.PduType.Report!,
} as const;

export const ERROR_STATUS = { noError: 0, tooBig: 1, noSuchName: 2, genErr: 5, authorizationError: 16, notWritable: 17 } as const;

/** A GetRequest for 1.3.6.1 with community "x", BER-encoded (RFC 1905 message layout). */
const PROBE = Buffer.from('301c020101040178a014020101020100020100300930070603' + '2b06010500', 'hex');

function messageClass(): { createFromBuffer(buffer: Buffer): NetSnmpMessage } {
  const socketless = { createSocket: () => ({ on: () => undefined, bind: () => undefined, close: (cb?: () => void) => cb?.() }) };
  const agent = snmp.createAgent({ port: 1, address: '127.0.0.1', transport: 'udp4', dgramModule: socketless }, () => undefined);
  const probe = agent.listener.constructor.processIncoming(PROBE, { communities: ['x'], users: [], disableAuthorization: false }, () => undefined);
  const cls = (probe as { constructor?: { createFromBuffer?: unknown } } | undefined)?.constructor;
  if (!probe || typeof cls?.createFromBuffer !== 'function') throw new Error('net-snmp changed: its Message class is not reachable (see simulators/servers/snmp-message.ts)');
  return cls as { createFromBuffer(buffer: Buffer): NetSnmpMessage };
}

const Message = messageClass();

/** Parse one datagram; throws on anything that is not a well-formed SNMP message. */
export function parseMessage(buffer: Buffer): NetSnmpMessage {
  return Message.createFromBuffer(buffer);
}

const WIRE_TYPE: Record<AnswerVarbind['type'], number> = {
  integer: snmp.ObjectType.Integer!,
  counter32: snmp.ObjectType.Counter32!,
  gauge32: snmp.ObjectType.Gauge32!,
  counter64: snmp.ObjectType.Counter64!,
  octet_string: snmp.ObjectType.OctetString!,
  timeticks: snmp.ObjectType.TimeTicks!,
  object_identifier: snmp.ObjectType.OID!,
  noSuchObject: snmp.ObjectType.NoSuchObject!,
  noSuchInstance: snmp.ObjectType.NoSuchInstance!,
  endOfMibView: snmp.ObjectType.EndOfMibView!,
};

export const COUNTER32_TYPE = snmp.ObjectType.Counter32!;

/** An answer varbind in net-snmp's writer shape. */
export function toWire(vb: AnswerVarbind): NetSnmpVarbind {
  if (vb.type === 'counter64' && !Buffer.isBuffer(vb.value)) return { oid: vb.oid, type: WIRE_TYPE.counter64, value: counter64Bytes(vb.value as SnmpServedValue['value']) };
  return { oid: vb.oid, type: WIRE_TYPE[vb.type], value: vb.value };
}

/** Counter64 content octets: net-snmp writes the buffer as given, so make it minimal and unsigned (X.690 §8.3). */
export function counter64Bytes(value: SnmpServedValue['value']): Buffer {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Buffer.from(bytes);
}
