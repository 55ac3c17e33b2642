import type { ModbusPoint, ModbusProfile } from '../../contract/index.js';
import { pointRegisterCount } from '../decode/modbus-value.js';
import type { ChainModel, SunspecChain } from './sunspec-chain.js';

/**
 * Places a profile's SunSpec points on one device's chain. Pure.
 *
 * A point declared `model: {id, offset}` reads at `at + offset` of the first model in the chain
 * whose ID it names; its scale factor at `at + scale_factor.offset` of the same model. A point
 * whose model the device does not serve, or serves too short to hold it, is listed in `missing`
 * (it reads DCIM_E_SUNSPEC_MODEL_MISSING) instead of being read from wherever the reference chain
 * would have put it. Points with an absolute address stay where they are.
 *
 * `headers` are the ID registers of the models in use: the reader reads them with every poll
 * (they sit next to the data, so in the same requests) and walks again when one changes.
 */
export interface PlacedProfile {
  profile: ModbusProfile;
  /** Point index → why it cannot be read on this device. */
  missing: Map<number, string>;
  headers: { at: number; id: number }[];
}

export function isSunspecProfile(profile: ModbusProfile): boolean {
  return profile.points.some((p) => p.model !== undefined);
}

export function placeOnChain(profile: ModbusProfile, chain: SunspecChain): PlacedProfile {
  const missing = new Map<number, string>();
  const used = new Map<number, ChainModel>();
  const points = profile.points.map((p, i): ModbusPoint => {
    if (!p.model) return p;
    const wanted = p.model.id;
    const m = chain.models.find((x) => wanted.includes(x.id));
    if (!m) {
      missing.set(i, `the device serves no model ${wanted.join('/')} (its chain: ${chain.models.map((x) => x.id).join(', ') || 'empty'})`);
      return p;
    }
    const end = 2 + m.length;
    const sfOffset = p.scale_factor?.offset;
    if (p.model.offset + pointRegisterCount(p) > end || (sfOffset !== undefined && sfOffset >= end)) {
      missing.set(i, `model ${m.id} at ${m.at} has L ${m.length}, too short for offset ${p.model.offset}${sfOffset !== undefined ? ` (scale factor ${sfOffset})` : ''}`);
      return p;
    }
    used.set(m.at, m);
    return {
      ...p,
      address: m.at + p.model.offset,
      ...(p.scale_factor && sfOffset !== undefined ? { scale_factor: { ...p.scale_factor, address: m.at + sfOffset } } : {}),
    };
  });
  return { profile: { ...profile, points }, missing, headers: [...used.values()].map((m) => ({ at: m.at, id: m.id })) };
}
