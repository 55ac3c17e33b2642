import type { DeviceProfile, IndexTag } from '../../contract/index.js';
import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';
import { hash32 } from '../model/rng.js';

/**
 * Measurement noise on what a device serves: pure. A real meter's reading of a steady load
 * still moves a little (ADC noise, the mains, the load's own ripple), while the model holds a
 * steady load exactly; served as is, the agent's stuck check (a `live` point unchanged for
 * `stuck_polls` polls) would rightly call a healthy simulated device frozen. So every point a
 * profile marks `live` gets a small zero-mean offset, drawn afresh per model step and the same
 * for every read within a step, deterministic for a seed, a device, a point and a time.
 *
 * Only the instantaneous reading moves: counters (`*_kwh`) are never `live` and are skipped
 * anyway, and the model and the truth keep the true values, so energy stays exact.
 */

/** ±0.2 % of the value: the accuracy class of a good power meter (IEC 62053-22 class 0.2S). */
export const NOISE_RELATIVE = 0.002;
/**
 * Never more than ±2 % of the value, even where one step of a coarse register is more: the
 * profiles' cross-checks (sums within 5 %, power within 10 % of V × I) must keep passing.
 */
export const NOISE_MAX_RELATIVE = 0.02;

const NUMERIC_TYPES = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'integer', 'gauge', 'number']);

export interface NoisyPoint {
  name: string;
  /** Table points: the rows the value lives in. */
  index_tag?: IndexTag;
  /** One step of the encoding in engineering units (integer registers); 0 for floats and JSON numbers. */
  lsb: number;
  /** Per-point part of the draw's seed. */
  key: number;
}

/** The profile's `live` numeric points, with the resolution their encoding has at its base exponent. */
export function noisyPoints(profile: DeviceProfile): NoisyPoint[] {
  const out: NoisyPoint[] = [];
  const add = (p: { name: string; live?: boolean | undefined; scale: number; type: string; enum?: unknown }, integer: boolean, index_tag?: IndexTag) => {
    // Only measured numbers: a state or a counter never wobbles.
    if (!p.live || p.name.endsWith('_kwh') || p.enum !== undefined || !NUMERIC_TYPES.has(p.type)) return;
    out.push({ name: p.name, ...(index_tag !== undefined ? { index_tag } : {}), lsb: integer ? Math.abs(p.scale) : 0, key: hash32(index_tag ? `${index_tag}/${p.name}` : p.name) });
  };
  switch (profile.protocol) {
    case 'modbus':
      for (const p of profile.points) if ((p.register === 'input' || p.register === 'holding') && p.bit === undefined) add(p, !(p.type === 'float32' || p.type === 'float64'), p.model?.repeat?.index_tag);
      break;
    case 'snmp':
      for (const p of profile.points) add(p, true);
      for (const t of profile.tables) for (const c of t.columns) add(c, true, t.index_tag);
      break;
    case 'redfish':
      for (const r of profile.resources) for (const p of r.points) add(p, false);
      for (const c of profile.collections) for (const p of c.points) add(p, false, c.index_tag);
      break;
    case 'prometheus':
      break;
  }
  return out;
}

/** Half-width of the uniform noise on a value: 0.2 %, at least one register step, at most 2 %. */
export function noiseAmplitude(v: number, lsb: number): number {
  const a = Math.abs(v);
  return Math.min(Math.max(NOISE_RELATIVE * a, lsb), NOISE_MAX_RELATIVE * a);
}

/**
 * The quantities with every noisy point offset by a uniform draw in ±noiseAmplitude. `seed` is
 * the site's and the device's, `sim_ts` the model time the draw belongs to.
 */
export function applyMeasurementNoise(q: DeviceQuantities, points: readonly NoisyPoint[], seed: number, sim_ts: number): DeviceQuantities {
  if (points.length === 0) return q;
  // Both halves of the millisecond time, so every step draws anew whatever its length.
  const time = Math.imul(Math.floor(sim_ts / 4294967296) >>> 0, 0x85ebca6b) ^ (sim_ts >>> 0);
  let values: Record<string, QuantityValue> | undefined;
  let rows: DeviceQuantities['rows'] | undefined;
  for (const p of points) {
    if (p.index_tag === undefined) {
      const v = q.values[p.name];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      values ??= { ...q.values };
      values[p.name] = v + offset(v, p.lsb, seed ^ p.key, time, 0);
      continue;
    }
    const table = (rows ?? q.rows)[p.index_tag];
    if (!table) continue;
    const next = new Map<number, Readonly<Record<string, QuantityValue>>>();
    for (const [index, row] of table) {
      const v = row[p.name];
      next.set(index, typeof v === 'number' && Number.isFinite(v) ? { ...row, [p.name]: v + offset(v, p.lsb, seed ^ p.key, time, index) } : row);
    }
    rows ??= { ...q.rows };
    rows[p.index_tag] = next;
  }
  return values === undefined && rows === undefined ? q : { values: values ?? q.values, rows: rows ?? q.rows };
}

/** Uniform in ±noiseAmplitude, from a counter-based hash (no state: any read of a step agrees). */
function offset(v: number, lsb: number, seed: number, time: number, index: number): number {
  const a = noiseAmplitude(v, lsb);
  if (a === 0) return 0;
  return a * (2 * unit(seed, time, index) - 1);
}

/** A uniform draw in [0, 1) from three 32-bit inputs (murmur3's finaliser over a mix of them). */
function unit(seed: number, time: number, index: number): number {
  let h = (seed ^ Math.imul(time, 0xcc9e2d51) ^ Math.imul(index + 1, 0x1b873593)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}
