import type { ModbusPoint, ModbusProfile, Reading } from '../../contract/index.js';
import { pointRegisterCount } from '../decode/modbus-value.js';
import type { ChainModel, HoldingRead, SunspecChain } from './sunspec-chain.js';

/**
 * Places a profile's SunSpec points on one device's chain. Pure.
 *
 * A point declared `model: {id, offset}` reads at `at + offset` of the first model in the chain
 * whose ID it names; its scale factor at `at + scale_factor.offset` of the same model. A point
 * whose model the device does not serve, or serves too short to hold it, is listed in `missing`
 * (it reads DCIM_E_SUNSPEC_MODEL_MISSING) instead of being read from wherever the reference chain
 * would have put it. Points with an absolute address stay where they are.
 *
 * A `repeat` point (model 160's MPPT modules) becomes one point per block, each with its row index
 * in `index`. The number of blocks is the model's own count register (N), read once after the walk
 * (`repeatCounts`), bounded by the blocks its L holds: a device that declares more modules than it
 * serves registers for is read only as far as it serves them, and a count left "not implemented"
 * (0xFFFF) or that could not be read comes to what L holds. A device without the
 * model has no rows, like an SNMP table without entries: model 160 is optional on every inverter.
 *
 * `headers` are registers the layout depends on, with the value each held at the walk: the ID
 * registers of the models in use and the count registers of repeating blocks. The reader reads them
 * with every poll (they sit next to the data, so in the same requests) and walks again when one
 * changes.
 */
export interface PlacedProfile {
  profile: ModbusProfile;
  /** Point index → why it cannot be read on this device. */
  missing: Map<number, string>;
  /** Point index → the row of a repeating block the point reads. */
  index: Map<number, NonNullable<Reading['index']>>;
  headers: { at: number; id: number }[];
}

export function isSunspecProfile(profile: ModbusProfile): boolean {
  return profile.points.some((p) => p.model !== undefined);
}

/** The profile's points without repeat points: what can be reported before the device's layout is known. */
export function withoutRepeats(profile: ModbusProfile): ModbusProfile {
  return { ...profile, points: profile.points.filter((p) => !p.model?.repeat) };
}

function modelOf(p: ModbusPoint, chain: SunspecChain): ChainModel | undefined {
  const wanted = p.model?.id ?? [];
  return chain.models.find((x) => wanted.includes(x.id));
}

/** Addresses of the count registers the profile's repeat points need on this chain. */
export function repeatCountAddresses(profile: ModbusProfile, chain: SunspecChain): number[] {
  const out = new Set<number>();
  for (const p of profile.points) {
    const count = p.model?.repeat?.count;
    const m = count !== undefined ? modelOf(p, chain) : undefined;
    if (m && count !== undefined && count < 2 + m.length) out.add(m.at + count);
  }
  return [...out];
}

/** Reads each count register once; a register that cannot be read is left out (L decides). */
export async function repeatCounts(read: HoldingRead, profile: ModbusProfile, chain: SunspecChain): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const at of repeatCountAddresses(profile, chain)) {
    const r = await read(at, 1);
    const v = r.ok ? r.value.words?.[0] : undefined;
    if (v !== undefined) counts.set(at, v);
  }
  return counts;
}

export function placeOnChain(profile: ModbusProfile, chain: SunspecChain, counts: ReadonlyMap<number, number> = new Map()): PlacedProfile {
  const missing = new Map<number, string>();
  const index = new Map<number, NonNullable<Reading['index']>>();
  const headers = new Map<number, number>();
  const points: ModbusPoint[] = [];
  for (const p of profile.points) {
    if (!p.model) {
      points.push(p);
      continue;
    }
    const m = modelOf(p, chain);
    const repeat = p.model.repeat;
    if (!m) {
      // A repeating model the device does not serve has no rows.
      if (repeat) continue;
      missing.set(points.length, `the device serves no model ${p.model.id.join('/')} (its chain: ${chain.models.map((x) => x.id).join(', ') || 'empty'})`);
      points.push(p);
      continue;
    }
    const end = 2 + m.length;
    const sfOffset = p.scale_factor?.offset;
    const sf = (at: number): Partial<ModbusPoint> => (p.scale_factor && sfOffset !== undefined ? { scale_factor: { ...p.scale_factor, address: at + sfOffset } } : {});
    if (!repeat) {
      if (p.model.offset + pointRegisterCount(p) > end || (sfOffset !== undefined && sfOffset >= end)) {
        missing.set(points.length, `model ${m.id} at ${m.at} has L ${m.length}, too short for offset ${p.model.offset}${sfOffset !== undefined ? ` (scale factor ${sfOffset})` : ''}`);
        points.push(p);
        continue;
      }
      headers.set(m.at, m.id);
      points.push({ ...p, address: m.at + p.model.offset, ...sf(m.at) });
      continue;
    }
    const fits = Math.max(0, Math.floor((end - repeat.start) / repeat.length));
    const declared = repeat.count !== undefined ? counts.get(m.at + repeat.count) : undefined;
    const blocks = declared !== undefined ? Math.min(declared, fits) : fits;
    if (blocks === 0 || (sfOffset !== undefined && sfOffset >= end)) continue;
    headers.set(m.at, m.id);
    if (repeat.count !== undefined && declared !== undefined) headers.set(m.at + repeat.count, declared);
    for (let k = 0; k < blocks; k++) {
      index.set(points.length, { [repeat.index_tag]: String(k + 1) });
      points.push({ ...p, address: m.at + repeat.start + k * repeat.length + p.model.offset, ...sf(m.at) });
    }
  }
  return { profile: { ...profile, points }, missing, index, headers: [...headers].map(([at, id]) => ({ at, id })) };
}
