import type { DeviceProfile, PrometheusProfile } from '../../contract/index.js';
import type { Decoded } from '../../agent/decode/decoded.js';
import { decodeModbusValue } from '../../agent/decode/modbus-value.js';
import { decodeRedfishValue } from '../../agent/decode/redfish-value.js';
import { parseSampleValue } from '../../agent/prometheus/exposition-parser.js';
import { decodeLabelText, decodePrometheusValue } from '../../agent/prometheus/prometheus-value.js';
import { decodeSnmpValue } from '../../agent/decode/snmp-value.js';
import { SnmpType } from '../../agent/snmp/asn1-types.js';

type Vector = DeviceProfile['test_vectors'][number];

/** The varbind a test vector's raw value stands for, as net-snmp would hand it over. */
function varbindFor(type: string, raw: Vector['raw']): { type: number; value: unknown } {
  switch (type) {
    case 'counter64':
      return { type: SnmpType.Counter64, value: bigintBytes(BigInt(raw as number | string)) };
    case 'counter32':
      return { type: SnmpType.Counter32, value: raw };
    case 'gauge':
      return { type: SnmpType.Gauge32, value: raw };
    case 'timeticks':
      return { type: SnmpType.TimeTicks, value: raw };
    case 'string':
      return { type: SnmpType.OctetString, value: Buffer.from(String(raw)) };
    default:
      return { type: SnmpType.Integer, value: raw };
  }
}

export function bigintBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const b = Buffer.from(hex, 'hex');
  // BER keeps the top bit clear for unsigned values.
  return (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

/**
 * Decode one test vector with the agent's own decoders: SNMP varbinds (with the raw values of
 * exponent_from terms), Modbus words or bits (with the scale-factor register), Redfish JSON values.
 */
export function decodeVector(profile: DeviceProfile, v: Vector): Decoded {
  if (profile.protocol === 'snmp') {
    const point = profile.points.find((p) => p.name === v.point) ?? profile.tables.flatMap((t) => t.columns).find((c) => c.name === v.point);
    if (!point) throw new Error(`no point ${v.point}`);
    const vb = varbindFor(point.type, v.raw);
    return decodeSnmpValue(point, vb.type, vb.value, v.exponents);
  }
  if (profile.protocol === 'redfish') {
    const point = [...profile.resources.flatMap((r) => r.points), ...profile.collections.flatMap((c) => c.points)].find((p) => p.name === v.point);
    if (!point) throw new Error(`no point ${v.point}`);
    return decodeRedfishValue(point, v.raw);
  }
  if (profile.protocol === 'prometheus') return prometheusVector(profile, v);
  const point = profile.points.find((p) => p.name === v.point);
  if (!point) throw new Error(`no point ${v.point}`);
  const raw = Array.isArray(v.raw) ? v.raw : [Number(v.raw)];
  const bitKind = point.register === 'coil' || point.register === 'discrete';
  return decodeModbusValue(point, bitKind ? { bits: raw.map((x) => x !== 0) } : { words: raw, ...(v.sf !== undefined ? { sf: v.sf } : {}) });
}

/** Prometheus: a label point's raw is the label text; a value point's raw is the sample value, a number or its text ("NaN", "+Inf"). */
function prometheusVector(profile: PrometheusProfile, v: Vector): Decoded {
  const point = [...profile.points, ...profile.tables.flatMap((t) => t.columns)].find((p) => p.name === v.point);
  if (!point) throw new Error(`no point ${v.point}`);
  if (point.label !== undefined) return decodeLabelText(point, String(v.raw));
  const value = typeof v.raw === 'number' ? v.raw : parseSampleValue(String(v.raw));
  if (value === undefined) throw new Error(`${v.point}: raw ${String(v.raw)} is not a sample value`);
  return decodePrometheusValue(point, value, {});
}
