import type { ErrorCode } from '../../contract/index.js';
import type { ModbusOutcome, ModbusRegisters } from '../modbus/modbus-transport.js';

/**
 * Walks a SunSpec device's model chain (SunSpec Information Model Specification; the register
 * layout of every model in sunspec/models). "SunS" (0x5375 0x6E53) sits at one of the base
 * addresses clients probe, 40000 first, then 50000 and 0; after it come models, each `[ID][L]`
 * followed by L registers, until ID 0xFFFF. Nothing in the chain has a fixed length: model 1 is
 * L 66 per the definition but SolarEdge serves L 65, and vendors put their own models anywhere.
 *
 * A device that lies does not stop the walk from yielding what it can: the models found before a
 * chain breaks are kept, with the break as `problem`:
 * - a header that cannot be read or reads ID 0 (chain ends early): DCIM_E_SUNSPEC_CHAIN_TRUNCATED;
 * - more than MAX_CHAIN_MODELS models (a register map that mirrors itself, so the chain never
 *   reaches 0xFFFF): DCIM_E_SUNSPEC_CHAIN_LOOP;
 * - a model whose L runs past address 65535: DCIM_E_SUNSPEC_CHAIN_OVERRUN (that model is dropped).
 * Only a silent device ends the walk without a chain (its timeout code); a device with no marker
 * at any base is DCIM_E_SUNSPEC_NOT_FOUND.
 */
export const SUNS_MARKER = [0x5375, 0x6e53] as const;
export const SUNSPEC_BASES = [40000, 50000, 0] as const;
export const END_MODEL_ID = 0xffff;
/** Real devices serve well under 30 models; an aggregator of a dozen inverters about 40. */
export const MAX_CHAIN_MODELS = 100;
const ADDRESS_SPACE = 0x10000;

export interface ChainModel {
  id: number;
  /** Address of the model's ID register; its points sit at `at + offset`. */
  at: number;
  /** L: registers after ID and L. */
  length: number;
}

export interface SunspecChain {
  base: number;
  models: ChainModel[];
  /** Why the chain is not whole, when it is not. */
  problem?: { code: ErrorCode; message: string };
}

export type ChainWalk = { ok: true; value: SunspecChain } | { ok: false; code: ErrorCode; message: string };

/** One holding-register read as the caller sends it (with its retries and counters). */
export type HoldingRead = (address: number, count: number) => Promise<ModbusOutcome<ModbusRegisters>>;

export async function walkSunspecChain(read: HoldingRead): Promise<ChainWalk> {
  let base: number | undefined;
  let first: number[] | undefined;
  for (const b of SUNSPEC_BASES) {
    // The marker and the first model header in one request.
    const r = await read(b, 4);
    if (!r.ok) {
      if (r.kind === 'timeout' || r.kind === 'connect') return { ok: false, code: failureCode(r.kind), message: `no answer at ${b}: ${r.message}` };
      continue;
    }
    const w = r.value.words ?? [];
    if (w[0] === SUNS_MARKER[0] && w[1] === SUNS_MARKER[1]) {
      base = b;
      first = w.slice(2, 4);
      break;
    }
  }
  if (base === undefined || !first) return { ok: false, code: 'DCIM_E_SUNSPEC_NOT_FOUND', message: `no "SunS" marker at ${SUNSPEC_BASES.join(', ')}` };

  const models: ChainModel[] = [];
  const done = (problem?: SunspecChain['problem']): ChainWalk => ({ ok: true, value: { base: base as number, models, ...(problem ? { problem } : {}) } });
  let at = base + 2;
  let header: number[] | undefined = first;
  for (;;) {
    if (!header) {
      if (at + 2 > ADDRESS_SPACE) return done({ code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED', message: `the chain reaches the end of the address space at ${at} without its end model` });
      const r = await read(at, 2);
      if (!r.ok) {
        if (r.kind === 'timeout' || r.kind === 'connect') return { ok: false, code: failureCode(r.kind), message: `no answer at ${at}: ${r.message}` };
        return done({ code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED', message: `the model header at ${at} cannot be read (${r.kind}${r.code !== undefined ? ` ${r.code}` : ''}) before the end model` });
      }
      header = r.value.words ?? [];
    }
    const [id, length] = header;
    header = undefined;
    if (id === undefined || length === undefined) return done({ code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED', message: `the model header at ${at} came back short` });
    if (id === END_MODEL_ID) return done();
    if (id === 0) return done({ code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED', message: `model ID 0 at ${at}: the chain ends without its end model` });
    if (at + 2 + length > ADDRESS_SPACE) return done({ code: 'DCIM_E_SUNSPEC_CHAIN_OVERRUN', message: `model ${id} at ${at} declares L ${length}, past address 65535` });
    if (models.length >= MAX_CHAIN_MODELS) return done({ code: 'DCIM_E_SUNSPEC_CHAIN_LOOP', message: `no end model after ${MAX_CHAIN_MODELS} models (the register map repeats itself?)` });
    models.push({ id, at, length });
    at += 2 + length;
  }
}

function failureCode(kind: 'timeout' | 'connect'): ErrorCode {
  return kind === 'timeout' ? 'DCIM_E_MODBUS_TIMEOUT' : 'DCIM_E_MODBUS_CONNECT';
}
