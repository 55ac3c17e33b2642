import type { ModbusProfile } from '../../contract/index.js';
import { encodeWords } from '../../shared/codec/modbus-words.js';

/**
 * The SunSpec discovery structure (SunSpec Information Model, sunspec/models): "SunS"
 * (0x5375 0x6E53) at the base address, then a chain of models, each `[ID][L]` followed by L
 * registers, ended by ID 0xFFFF with L 0. A SunSpec client (pysunspec2, an inverter portal)
 * finds the base, walks the chain and reads the models it knows, so the simulator serves the
 * whole chain, not only the registers the profile's points name.
 *
 * A profile declares itself SunSpec with `sunspec: { base, models }` (contract ModbusProfileSchema).
 */
export interface SunspecModel {
  /** Model ID (1 common, 103 three-phase inverter, …). */
  id: number;
  /** L: registers after the ID and L registers. */
  length: number;
}

export interface SunspecLayout {
  /** Protocol address of "SunS": 40000, 0 or 50000 (the addresses clients probe). */
  base: number;
  models: readonly SunspecModel[];
}

export const SUNS_MARKER = [0x5375, 0x6e53] as const;
export const END_MODEL_ID = 0xffff;
const COMMON_MODEL_ID = 1;

export function sunspecLayoutOf(profile: ModbusProfile): SunspecLayout | undefined {
  return profile.sunspec;
}

/** Registers the layout occupies: marker, every model and the end model. */
export function sunspecSpan(layout: SunspecLayout): { start: number; end: number } {
  const models = layout.models.reduce((n, m) => n + 2 + m.length, 0);
  return { start: layout.base, end: layout.base + 2 + models + 2 };
}

/** Where each model's ID register sits. */
export function modelAddresses(layout: SunspecLayout): { id: number; at: number; length: number }[] {
  let at = layout.base + 2;
  return layout.models.map((m) => {
    const here = { id: m.id, at, length: m.length };
    at += 2 + m.length;
    return here;
  });
}

export interface SunspecIdentity {
  manufacturer: string;
  model: string;
  version?: string | undefined;
  serial?: string | undefined;
  unit_id?: number | undefined;
}

/**
 * The fixed registers of a layout: marker, model headers, end model, and the common model's
 * identity strings (Mn, Md, Vr, SN: 16/16/8/16 registers of text, DA), by address.
 */
export function sunspecFixedWords(layout: SunspecLayout, who: SunspecIdentity): Map<number, number> {
  const words = new Map<number, number>();
  const put = (at: number, ws: readonly number[]) => ws.forEach((w, i) => words.set(at + i, w));
  put(layout.base, SUNS_MARKER);
  for (const m of modelAddresses(layout)) {
    put(m.at, [m.id, m.length]);
    if (m.id === COMMON_MODEL_ID && m.length >= 66) {
      const data = m.at + 2;
      put(data, encodeWords(who.manufacturer, 'string', 'ABCD', 16));
      put(data + 16, encodeWords(who.model, 'string', 'ABCD', 16));
      put(data + 32, encodeWords('', 'string', 'ABCD', 8));
      put(data + 40, encodeWords(who.version ?? '', 'string', 'ABCD', 8));
      put(data + 48, encodeWords(who.serial ?? '', 'string', 'ABCD', 16));
      put(data + 64, [who.unit_id ?? 1]);
    }
  }
  const end = sunspecSpan(layout).end - 2;
  put(end, [END_MODEL_ID, 0]);
  return words;
}
