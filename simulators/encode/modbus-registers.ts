import type { ModbusPoint, ModbusProfile } from '../../contract/index.js';
import { encodeWords, registerCount } from '../../shared/codec/modbus-words.js';
import { toRaw } from '../../shared/codec/scale.js';
import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';
import { sunspecFixedWords, sunspecLayoutOf, sunspecSpan, type SunspecIdentity } from './sunspec-layout.js';

/**
 * A device's Modbus register image, encoded through its profile: the inverse of the agent's
 * decode. Pure. Reads inside the span a profile covers (per register kind) return words, with
 * the holes between points as 0 like a real meter's reserved registers; reads that leave the
 * span get exception 2, as a device answers for addresses it does not implement.
 *
 * - Every type and word order of the contract codec, 64-bit integers included.
 * - Integer energy counters (`counter_max`) wrap at their type's range like the meter's register;
 *   other values clamp.
 * - SunSpec scale factors are chosen per register as an inverter does (sunssf); a SunSpec profile
 *   also gets its "SunS" marker, model chain and common-model identity (sunspec-layout.ts).
 */
export type RegisterKind = ModbusPoint['register'];
export const REGISTER_KINDS: readonly RegisterKind[] = ['holding', 'input', 'coil', 'discrete'];

/** Modbus exception codes the simulator answers with (Modbus Application Protocol v1.1b3 §7). */
export const MODBUS_EXCEPTION = {
  illegal_function: 1,
  illegal_data_address: 2,
  illegal_data_value: 3,
  server_device_failure: 4,
  gateway_target_failed: 11,
} as const;
export type ModbusExceptionCode = (typeof MODBUS_EXCEPTION)[keyof typeof MODBUS_EXCEPTION];

/** Modbus limits per request: 125 registers (FC3/FC4), 2000 bits (FC1/FC2). */
const MAX_READ: Record<RegisterKind, number> = { holding: 125, input: 125, coil: 2000, discrete: 2000 };

export interface AddressSpan {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface RegisterImage {
  /** Words (or bits as 0/1) by address; absent addresses inside the span read 0. */
  words: Record<RegisterKind, ReadonlyMap<number, number>>;
  spans: Record<RegisterKind, AddressSpan | undefined>;
}

/** The address span each register kind of a profile covers; independent of values. */
export function profileSpans(profile: ModbusProfile): Record<RegisterKind, AddressSpan | undefined> {
  const spans: Record<RegisterKind, AddressSpan | undefined> = { holding: undefined, input: undefined, coil: undefined, discrete: undefined };
  const widen = (kind: RegisterKind, start: number, n: number) => {
    const s = spans[kind];
    spans[kind] = s ? { start: Math.min(s.start, start), end: Math.max(s.end, start + n) } : { start, end: start + n };
  };
  for (const p of profile.points) {
    widen(p.register, p.address, p.register === 'coil' || p.register === 'discrete' ? 1 : registerCount(p.type, p.length));
    if (p.scale_factor) widen(p.scale_factor.register, p.scale_factor.address, 1);
  }
  const sunspec = sunspecLayoutOf(profile);
  if (sunspec) {
    const span = sunspecSpan(sunspec);
    widen('holding', span.start, span.end - span.start);
  }
  return spans;
}

export interface ModbusEncoding {
  image: RegisterImage;
  /** Named points the quantities have no value for; a Modbus device must serve them all. */
  missing: string[];
  problems: string[];
}

/** What a device says about itself where its map has room for it (SunSpec common model). */
export type DeviceIdentity = Partial<Pick<SunspecIdentity, 'serial' | 'version' | 'unit_id'>>;

export function encodeModbusImage(profile: ModbusProfile, q: DeviceQuantities, identity: DeviceIdentity = {}): ModbusEncoding {
  const words: Record<RegisterKind, Map<number, number>> = { holding: new Map(), input: new Map(), coil: new Map(), discrete: new Map() };
  const missing: string[] = [];
  const problems: string[] = [];
  const sunspec = sunspecLayoutOf(profile);
  if (sunspec) {
    const fixed = sunspecFixedWords(sunspec, { manufacturer: profile.vendor, model: profile.model, ...identity });
    for (const [at, w] of fixed) words.holding.set(at, w);
  }
  const sf = chooseScaleFactors(profile, q);
  for (const [key, value] of sf) {
    const [kind, address] = key.split(':') as [RegisterKind, string];
    words[kind].set(Number(address), encodeWords(value, 'int16')[0] ?? 0);
  }
  for (const p of profile.points) {
    if (p.model?.repeat) {
      encodeRepeat(p, q, sf, words, missing, problems, profile.id);
      continue;
    }
    const v = q.values[p.name];
    if (v === undefined) {
      missing.push(p.name);
      // A point the device has no value for reads its "not implemented" pattern (SunSpec 0xFFFF, 0x8000 …), not 0.
      const unavailable = sentinelWords(p);
      if (unavailable) unavailable.forEach((w, i) => words[p.register].set(p.address + i, w));
      continue;
    }
    const pointSf = p.scale_factor ? (sf.get(`${p.scale_factor.register}:${p.scale_factor.address}`) ?? 0) : 0;
    const encoded = encodePoint(p, v, pointSf);
    if (typeof encoded === 'string') {
      problems.push(`${profile.id}: ${p.name}: ${encoded}`);
      continue;
    }
    const target = words[p.register];
    encoded.forEach((w, i) => {
      const at = p.address + i;
      // Status words share a register between bit points.
      target.set(at, p.bit !== undefined ? (target.get(at) ?? 0) | w : w);
    });
  }
  return { image: { words, spans: profileSpans(profile) }, missing, problems };
}

/**
 * A SunSpec repeating block (model 160's MPPT modules): as many blocks as the reference model's L
 * holds, each from the `index_tag` row of the same number, and the model's count register (N) set
 * to that number, as a device declares its modules.
 */
function encodeRepeat(p: ModbusPoint, q: DeviceQuantities, sf: ReadonlyMap<string, number>, words: Record<RegisterKind, Map<number, number>>, missing: string[], problems: string[], id: string): void {
  const repeat = p.model?.repeat;
  const model = p.model;
  if (!repeat || !model) return;
  const modelAt = p.address - model.offset - repeat.start;
  const length = words.holding.get(modelAt + 1) ?? 0;
  const blocks = Math.max(0, Math.floor((length + 2 - repeat.start) / repeat.length));
  if (repeat.count !== undefined) words.holding.set(modelAt + repeat.count, blocks);
  const pointSf = p.scale_factor ? (sf.get(`${p.scale_factor.register}:${p.scale_factor.address}`) ?? 0) : 0;
  for (let k = 1; k <= blocks; k++) {
    const at = p.address + (k - 1) * repeat.length;
    const v = q.rows[repeat.index_tag]?.get(k)?.[p.name];
    if (v === undefined) {
      missing.push(`${p.name}[${repeat.index_tag}=${k}]`);
      sentinelWords(p)?.forEach((w, i) => words.holding.set(at + i, w));
      continue;
    }
    const encoded = encodePoint(p, v, pointSf);
    if (typeof encoded === 'string') problems.push(`${id}: ${p.name}[${repeat.index_tag}=${k}]: ${encoded}`);
    else encoded.forEach((w, i) => words.holding.set(at + i, w));
  }
}

/** A point's values in the quantities: its scalar value, or one per row of a SunSpec repeating block. */
function valuesOf(p: ModbusPoint, q: DeviceQuantities): QuantityValue[] {
  const tag = p.model?.repeat?.index_tag;
  if (tag) return [...(q.rows[tag]?.values() ?? [])].map((row) => row[p.name]).filter((v): v is QuantityValue => v !== undefined);
  const v = q.values[p.name];
  return v === undefined ? [] : [v];
}

function encodePoint(p: ModbusPoint, v: QuantityValue, sf: number): number[] | string {
  if (p.register === 'coil' || p.register === 'discrete') return [bitOf(p, v) ? 1 : 0];
  if (p.type === 'string') return encodeWords(String(v), 'string', p.order, p.length);
  if (p.bit !== undefined) return [bitOf(p, v) ? 1 << p.bit : 0];
  if (p.type === 'bool') return encodeWords(bitOf(p, v), 'bool', p.order);
  let raw: number;
  if (typeof v === 'string') {
    const key = Object.entries(p.enum ?? {}).find(([, name]) => name === v)?.[0];
    if (key === undefined) return `no raw value maps to ${JSON.stringify(v)}`;
    raw = Number(key);
  } else {
    raw = toRaw(v, p.scale, p.offset, sf);
  }
  if (!Number.isFinite(raw)) return `value ${String(v)} has no finite raw value`;
  if (p.type === 'float32' || p.type === 'float64') return encodeWords(raw, p.type, p.order);
  raw = Math.round(raw);
  const range = INT_RANGE[p.type];
  // An energy register rolls over to 0 past its largest value (EM24 kWh×10 at 2^31 - 1, SunSpec acc32 at 2^32).
  if (p.counter_max !== undefined && range) raw = wrap(raw, range[1] + 1);
  return encodeWords(p.type === 'int64' || p.type === 'uint64' ? BigInt(raw) : raw, p.type, p.order);
}

function sentinelWords(p: ModbusPoint): number[] | undefined {
  const s = p.sentinels?.[0];
  if (s === undefined || p.register === 'coil' || p.register === 'discrete' || p.bit !== undefined || p.type === 'bool') return undefined;
  if (p.type === 'string') return encodeWords(String(s), 'string', p.order, p.length);
  try {
    if (p.type === 'int64' || p.type === 'uint64') return encodeWords(BigInt(s), p.type, p.order);
    if (typeof s !== 'number') return undefined;
    // A sentinel may be written as the unsigned pattern of a signed type (0x8000 for an int16).
    const bits = registerCount(p.type) * 16;
    const signed = p.type.startsWith('int') && s >= 2 ** (bits - 1) && bits <= 32 ? s - 2 ** bits : s;
    return encodeWords(signed, p.type, p.order);
  } catch {
    return undefined;
  }
}

function wrap(raw: number, modulus: number): number {
  return ((raw % modulus) + modulus) % modulus;
}

/** A bit's state; a bit with named states ({ "0": normal, "1": alarm }) takes its name's key. */
function bitOf(p: ModbusPoint, v: QuantityValue): boolean {
  const key = typeof v === 'string' ? Object.entries(p.enum ?? {}).find(([, name]) => name === v)?.[0] : undefined;
  return key !== undefined ? Number(key) !== 0 : truthy(v);
}

function truthy(v: QuantityValue): boolean {
  return typeof v === 'number' ? v !== 0 : v !== '' && v !== 'false' && v !== 'off';
}

const SUNSSF_NOT_IMPLEMENTED = -0x8000;

const INT_RANGE: Partial<Record<ModbusPoint['type'], [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/**
 * SunSpec-style scale factors: for each sf register, the finest exponent (-6…6) at which every
 * point that shares it still fits its integer type, as an inverter picks its own. An energy
 * accumulator's factor stays 0 (whole Wh, as the profile's counter_max assumes): acc32 counts up
 * for years and wraps, and a factor that moved with the value would turn a slow count into jumps.
 */
function chooseScaleFactors(profile: ModbusProfile, q: DeviceQuantities): Map<string, number> {
  const groups = new Map<string, ModbusPoint[]>();
  for (const p of profile.points) {
    if (!p.scale_factor) continue;
    const key = `${p.scale_factor.register}:${p.scale_factor.address}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out = new Map<string, number>();
  for (const [key, points] of groups) {
    // No value for any point of the group: the factor itself is "not implemented" (sunssf 0x8000).
    if (points.every((p) => !valuesOf(p, q).some((v) => typeof v === 'number'))) {
      out.set(key, SUNSSF_NOT_IMPLEMENTED);
      continue;
    }
    // An energy accumulator keeps factor 0 (whole Wh, wrapping at counter_max) for good.
    if (points.some((p) => p.counter_max !== undefined)) {
      out.set(key, 0);
      continue;
    }
    let chosen = 6;
    for (let sf = -6; sf <= 6; sf++) {
      const fits = points.every((p) => {
        const range = INT_RANGE[p.type];
        return valuesOf(p, q).every((v) => {
          if (typeof v !== 'number' || !range) return true;
          const raw = Math.round(toRaw(v, p.scale, p.offset, sf));
          return raw >= range[0] && raw <= range[1];
        });
      });
      if (fits) {
        chosen = sf;
        break;
      }
    }
    out.set(key, chosen);
  }
  return out;
}

export type ReadResult = { ok: true; words: number[] } | { ok: false; exception: ModbusExceptionCode };

/** A read request against the image: words, or the exception a device would answer. */
export function readImage(image: RegisterImage, kind: RegisterKind, address: number, count: number): ReadResult {
  if (!Number.isInteger(count) || count < 1 || count > MAX_READ[kind]) return { ok: false, exception: MODBUS_EXCEPTION.illegal_data_value };
  const span = image.spans[kind];
  if (!span || !Number.isInteger(address) || address < span.start || address + count > span.end) {
    return { ok: false, exception: MODBUS_EXCEPTION.illegal_data_address };
  }
  const map = image.words[kind];
  const words: number[] = [];
  for (let a = address; a < address + count; a++) words.push(map.get(a) ?? 0);
  return { ok: true, words };
}
