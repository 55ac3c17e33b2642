import type { ModbusPoint } from '../../contract/index.js';
import { decodeWords, registerCount, type RawValue } from '../../shared/codec/modbus-words.js';
import { applyNumeric, decoded, enumName, failed, isSentinel, isTypeSentinel, MAX_STRING_CHARS, type Decoded } from './decoded.js';

/**
 * Register words or coil bits → engineering value. Pure; the word order codec and the scale
 * convention come from the contract so the simulators encode exactly what this decodes.
 *
 * - `bit` picks one bit of the first register (status and alarm words) → boolean, or the
 *   enum name for "0"/"1" when the point has an enum map.
 * - `scale_factor` is a SunSpec sunssf register (int16, value = raw × 10^sf); its
 *   "not implemented" value 0x8000 and factors beyond ±10 make the point bad.
 * - 64-bit integers keep full precision (see applyNumeric for how they travel).
 * - float NaN/Inf (SunSpec's float "not implemented") is bad, never a number.
 */
export type ModbusValueSpec = Pick<ModbusPoint, 'register' | 'type' | 'order' | 'length' | 'bit' | 'scale' | 'offset' | 'sentinels' | 'enum' | 'type_sentinels'> & {
  scale_factor?: ModbusPoint['scale_factor'];
};

export interface ModbusRaw {
  /** Register words in wire order (holding/input). */
  words?: readonly number[];
  /** Coil / discrete-input states. */
  bits?: readonly boolean[];
  /** Raw scale-factor register (int16 or its unsigned pattern) for points with `scale_factor`. */
  sf?: number;
}

const SUNSSF_NOT_IMPLEMENTED = -0x8000;
const MAX_SF = 10;

/** Registers a point occupies (1 for coils and discretes). */
export function pointRegisterCount(spec: Pick<ModbusValueSpec, 'register' | 'type' | 'length'>): number {
  if (spec.register === 'coil' || spec.register === 'discrete') return 1;
  return registerCount(spec.type, spec.length);
}

export function decodeModbusValue(spec: ModbusValueSpec, raw: ModbusRaw): Decoded {
  if (spec.register === 'coil' || spec.register === 'discrete') {
    const bit = raw.bits?.[0];
    if (typeof bit !== 'boolean') return failed('DCIM_E_DECODE_VALUE', 'no coil state');
    return mapBoolean(spec, bit);
  }
  const need = pointRegisterCount(spec);
  const words = raw.words ?? [];
  if (words.length < need) return failed('DCIM_E_DECODE_VALUE', `${spec.type} needs ${need} registers, got ${words.length}`);
  const used = words.slice(0, need);
  const badWord = used.find((w) => !Number.isInteger(w) || w < 0 || w > 0xffff);
  if (badWord !== undefined) return failed('DCIM_E_DECODE_VALUE', `register value ${badWord} is not a 16-bit word`);

  if (spec.bit !== undefined) return mapBoolean(spec, (((used[0] as number) >> spec.bit) & 1) === 1);

  let value: RawValue;
  try {
    value = decodeWords(used, spec.type, spec.order);
  } catch (e) {
    return failed('DCIM_E_DECODE_VALUE', (e as Error).message);
  }
  if (typeof value === 'boolean') return mapBoolean(spec, value);
  if (typeof value === 'string') {
    if (isSentinel(spec, value)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${JSON.stringify(value)}`);
    return decoded(value.slice(0, MAX_STRING_CHARS));
  }
  // A sentinel may be given as the value or as the same registers read unsigned (0x8000, 0xFFFF, 0x7FC00000).
  const unsigned = unsignedPattern(used, spec.order);
  if (isSentinel(spec, value, unsigned)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${String(value)}`);
  if (isTypeSentinel(spec, spec.type, unsigned)) return failed('DCIM_E_VALUE_UNAVAILABLE', `${spec.type} not-available pattern 0x${BigInt(unsigned as number | bigint).toString(16)}`);
  // SunSpec's float "not implemented" is NaN: with type sentinels it means not available, else it is undecodable.
  if (typeof value === 'number' && Number.isNaN(value) && spec.type_sentinels) return failed('DCIM_E_VALUE_UNAVAILABLE', `${spec.type} is NaN`);
  if (typeof value === 'number' && !Number.isFinite(value)) return failed('DCIM_E_DECODE_VALUE', `${spec.type} is ${value}`);
  if (spec.type === 'float32' && typeof value === 'number') value = shortestFloat32(value);

  let sf = 0;
  if (spec.scale_factor) {
    if (raw.sf === undefined || !Number.isInteger(raw.sf)) return failed('DCIM_E_DECODE_VALUE', 'scale-factor register missing');
    sf = raw.sf > 0x7fff ? raw.sf - 0x10000 : raw.sf;
    if (sf === SUNSSF_NOT_IMPLEMENTED) return failed('DCIM_E_DECODE_VALUE', 'scale factor not implemented (0x8000)');
    if (Math.abs(sf) > MAX_SF) return failed('DCIM_E_DECODE_VALUE', `scale factor ${sf} out of range ±${MAX_SF}`);
  }
  return applyNumeric(value, spec, sf);
}

function mapBoolean(spec: ModbusValueSpec, bit: boolean): Decoded {
  if (!spec.enum) return decoded(bit);
  const name = enumName(spec.enum, bit ? '1' : '0');
  return name === undefined ? failed('DCIM_E_DECODE_VALUE', `bit ${bit ? 1 : 0} is not in the enum map`) : decoded(name);
}

/**
 * The shortest decimal that is the same float32: a meter's 230.1 V arrives as
 * 230.10000610351562 in double precision, but the device meant 230.1.
 */
export function shortestFloat32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(x.toPrecision(p));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/** The same registers read as an unsigned integer of the same width, in the point's order. */
function unsignedPattern(words: readonly number[], order: ModbusValueSpec['order']): number | bigint | undefined {
  const type = words.length === 1 ? 'uint16' : words.length === 2 ? 'uint32' : words.length === 4 ? 'uint64' : undefined;
  if (!type) return undefined;
  const v = decodeWords(words, type, order);
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}
