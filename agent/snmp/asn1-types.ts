/**
 * SNMP varbind type tags (BER, RFC 2578 / RFC 3416), the numbers net-snmp reports as
 * `varbind.type`. Kept here so the pure decoders do not load the socket library.
 */
export const SnmpType = {
  Boolean: 1,
  Integer: 2,
  BitString: 3,
  OctetString: 4,
  Null: 5,
  OID: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export type SnmpTypeTag = (typeof SnmpType)[keyof typeof SnmpType];

const NAMES = new Map<number, string>(Object.entries(SnmpType).map(([k, v]) => [v, k]));

export function snmpTypeName(tag: number): string {
  return NAMES.get(tag) ?? `type-${tag}`;
}

/** The three v2c/v3 per-varbind exceptions (RFC 3416 §3). */
export function isVarbindException(tag: number): boolean {
  return tag === SnmpType.NoSuchObject || tag === SnmpType.NoSuchInstance || tag === SnmpType.EndOfMibView;
}

/** One varbind as the transport hands it over: net-snmp's `{oid, type, value}`. */
export interface Varbind {
  oid: string;
  type: number;
  value: unknown;
}
