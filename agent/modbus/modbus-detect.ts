import type { DeviceProfile, ErrorCode, ModbusDeviceIdMatch, ModbusProfile } from '../../contract/index.js';
import { decodeWords } from '../../shared/codec/modbus-words.js';
import { walkSunspecChain, type SunspecChain } from '../sunspec/sunspec-chain.js';
import { isSunspecProfile, placeOnChain } from '../sunspec/sunspec-layout.js';
import type { DeviceIdentification } from './device-identification.js';
import type { ModbusTransport } from './modbus-transport.js';

/**
 * Which profile reads a Modbus device (`dcim poll --detect` on a Modbus address).
 * 1. SunSpec scan: walk the chain (agent/sunspec/); a SunSpec profile is a candidate when the
 *    device serves the models its points name, ranked by the share of its points it can place.
 * 2. Read Device Identification (43/14), where the device supports it (the regular category too
 *    when its conformity level offers it): what the device says it is, in the report and the
 *    reason. A profile whose `match.device_id` objects all hold claims a device that is not
 *    SunSpec, and is preferred among SunSpec profiles; so is one whose vendor and model it names.
 * 3. Not SunSpec: the profiles' own identification registers (`match.registers`, a meter's model
 *    name), each read on its own or, where the device answers them only as a whole block
 *    (`match.block`), in that one request: a profile whose registers all hold what it says claims
 *    the device. The profile with the most evidence (registers and 43/14 objects that held) wins.
 * A device that is neither is reported as such, with what it said, rather than guessed at: a
 * Modbus map without a self-description cannot be recognised by reading registers at random.
 */
export interface ModbusScan {
  /** The chain, or the code why there is none. */
  sunspec: { ok: true; chain: SunspecChain; common?: SunspecCommon } | { ok: false; code: ErrorCode; message: string };
  identification: { ok: true; value: DeviceIdentification } | { ok: false; code: ErrorCode | 'unsupported'; message: string };
  /** Profiles whose identification registers (`match.registers`) all hold what they say, with what was read. */
  registers: { profile: string; matched: string[] }[];
  requests: number;
}

/** SunSpec common model (1): manufacturer, model, version, serial. */
export interface SunspecCommon {
  manufacturer: string;
  model: string;
  version: string;
  serial: string;
}

export interface ModbusCandidate {
  profile: string;
  /** Share of the profile's points this device can be read for (1 = all). */
  coverage: number;
  reason: string;
}

export interface ModbusDetection {
  profile: ModbusProfile;
  candidates: ModbusCandidate[];
  reason: string;
}

export type ModbusDetectResult = { ok: true; value: ModbusDetection } | { ok: false; reason: string };

/** Rank the profiles for what a scan found. Pure. */
export function detectModbusProfile(scan: ModbusScan, profiles: ReadonlyMap<string, DeviceProfile>): ModbusDetectResult {
  const id = scan.identification.ok ? scan.identification.value : undefined;
  const says = id ? `; it identifies as ${id.vendor} ${id.product} ${id.revision}`.trimEnd() : '';
  if (!scan.sunspec.ok) {
    // Evidence per profile: the identification registers that all held, and the 43/14 objects that all held.
    const evidence = new Map<string, { registers: string[]; device_id: string[] }>();
    for (const r of scan.registers) evidence.set(r.profile, { registers: r.matched, device_id: [] });
    for (const p of profiles.values()) {
      if (p.protocol !== 'modbus' || !p.match?.device_id || !id) continue;
      const held = deviceIdHolds(p.match.device_id, id);
      if (held) evidence.set(p.id, { registers: evidence.get(p.id)?.registers ?? [], device_id: held });
    }
    const weight = (e: { registers: string[]; device_id: string[] }) => e.registers.length + e.device_id.length;
    const ranked = [...evidence].filter(([name]) => profiles.get(name)?.protocol === 'modbus').sort(([a, x], [b, y]) => weight(y) - weight(x) || a.localeCompare(b));
    const why = (e: { registers: string[]; device_id: string[] }) =>
      [e.registers.length ? `identification registers: ${e.registers.join('; ')}` : '', e.device_id.length ? `device identification (43/14): ${e.device_id.join('; ')}` : ''].filter(Boolean).join('; ');
    const top = ranked[0];
    const p = top ? profiles.get(top[0]) : undefined;
    if (top && p?.protocol === 'modbus') {
      return {
        ok: true,
        value: {
          profile: p,
          candidates: ranked.map(([name, e]) => ({ profile: name, coverage: 1, reason: why(e) })),
          reason: `not SunSpec; ${why(top[1])}: claimed by ${p.id}${says}`,
        },
      };
    }
    return { ok: false, reason: `not SunSpec (${scan.sunspec.code})${says || '; no device identification (43/14)'}: no profile recognises it, choose one with --profile` };
  }
  const chain = scan.sunspec.chain;
  const ids = chain.models.map((m) => m.id).join(', ');
  const ranked: { profile: ModbusProfile; candidate: ModbusCandidate; named: boolean }[] = [];
  for (const p of profiles.values()) {
    if (p.protocol !== 'modbus' || !isSunspecProfile(p)) continue;
    const placed = placeOnChain(p, chain);
    // A repeating block (model 160 modules) counts only where the device serves its model: it has no rows otherwise.
    const sunspecPoints = p.points.filter((x) => x.model && (!x.model.repeat || chain.models.some((m) => x.model?.id.includes(m.id)))).length;
    const readable = sunspecPoints - placed.missing.size;
    if (readable === 0) continue;
    const used = [...new Set(placed.headers.map((h) => h.id))].join(', ');
    const named = id !== undefined && ((p.match?.device_id !== undefined && deviceIdHolds(p.match.device_id, id) !== undefined) || matches(p.vendor, id.vendor) || matches(p.model, id.product));
    ranked.push({ profile: p, named, candidate: { profile: p.id, coverage: round(readable / sunspecPoints), reason: `reads ${readable} of ${sunspecPoints} points from model ${used}` } });
  }
  ranked.sort((a, b) => b.candidate.coverage - a.candidate.coverage || Number(b.named) - Number(a.named) || a.profile.id.localeCompare(b.profile.id));
  const top = ranked[0];
  if (!top) return { ok: false, reason: `SunSpec device with models ${ids}, but no profile reads any of them${says}` };
  const common = scan.sunspec.common;
  const who = common ? ` (${common.manufacturer} ${common.model}${common.serial ? `, serial ${common.serial}` : ''})` : '';
  return {
    ok: true,
    value: { profile: top.profile, candidates: ranked.map((r) => r.candidate), reason: `SunSpec at ${chain.base}${who}, models ${ids}: ${top.profile.id} ${top.candidate.reason}${says}` },
  };
}

/** The device's 43/14 objects a profile names, each as `Name "value"`, when every one matches; undefined when one does not (or was not sent). */
export function deviceIdHolds(want: ModbusDeviceIdMatch, id: DeviceIdentification): string[] | undefined {
  const objects: [keyof ModbusDeviceIdMatch, string, string | undefined][] = [
    ['vendor_name', 'VendorName', id.vendor],
    ['product_code', 'ProductCode', id.product],
    ['major_minor_revision', 'MajorMinorRevision', id.revision],
    ['product_name', 'ProductName', id.product_name],
    ['model_name', 'ModelName', id.model_name],
  ];
  const held: string[] = [];
  for (const [key, name, value] of objects) {
    const re = want[key];
    if (re === undefined) continue;
    if (value === undefined || !new RegExp(re, 'i').test(value)) return undefined;
    held.push(`${name} ${JSON.stringify(value)}`);
  }
  return held;
}

function matches(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.length > 2 && y.length > 2 && (x.includes(y) || y.includes(x));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Scan one unit: SunSpec chain (and its common model's identity), then 43/14. Counts requests. */
export async function scanModbus(transport: ModbusTransport, unitId: number, timeoutMs: number, profiles: ReadonlyMap<string, DeviceProfile> = new Map()): Promise<ModbusScan> {
  let requests = 0;
  const read = (address: number, count: number) => {
    requests++;
    return transport.read(unitId, 'holding', address, count, timeoutMs);
  };
  const c = await transport.connect();
  if (!c.ok) {
    const failed = { ok: false as const, code: 'DCIM_E_MODBUS_CONNECT' as const, message: c.message };
    return { sunspec: failed, identification: failed, registers: [], requests };
  }
  let sunspec: ModbusScan['sunspec'];
  const walk = await walkSunspecChain(read);
  if (!walk.ok) sunspec = walk;
  else {
    const common = walk.value.models.find((m) => m.id === 1 && m.length >= 65);
    let who: SunspecCommon | undefined;
    if (common) {
      const r = await read(common.at + 2, 65);
      const w = r.ok ? (r.value.words ?? []) : [];
      if (w.length === 65) {
        const text = (from: number, n: number) => String(decodeWords(w.slice(from, from + n), 'string')).replace(/\0+$/, '').trim();
        who = { manufacturer: text(0, 16), model: text(16, 16), version: text(40, 8), serial: text(48, 16) };
      }
    }
    sunspec = { ok: true, chain: walk.value, ...(who ? { common: who } : {}) };
  }
  let identification: ModbusScan['identification'];
  if (!transport.identify) identification = { ok: false, code: 'unsupported', message: 'this transport cannot send function 43' };
  else if (!transport.isOpen && !(await transport.connect()).ok) identification = { ok: false, code: 'DCIM_E_MODBUS_CONNECT', message: 'connection lost' };
  else {
    requests++;
    let r = await transport.identify(unitId, timeoutMs);
    // Conformity 2/3 (0x8x: with individual access) offers the regular objects: ProductName and
    // ModelName name the model where ProductCode is only a catalogue number. A device that then
    // fails the regular request keeps its basic answer.
    if (r.ok && (r.value.conformity & 0x7f) >= 2 && profilesWantRegular(profiles)) {
      requests++;
      const regular = await transport.identify(unitId, timeoutMs, 'regular');
      if (regular.ok) r = regular;
    }
    if (r.ok) identification = r;
    else if (r.kind === 'exception') identification = { ok: false, code: 'unsupported', message: `the device answers function 43/14 with exception ${r.code ?? '?'}` };
    else if (r.kind === 'invalid') identification = { ok: false, code: 'DCIM_E_MODBUS_DEVICE_ID_INVALID', message: r.message };
    else identification = { ok: false, code: r.kind === 'timeout' ? 'DCIM_E_MODBUS_TIMEOUT' : 'DCIM_E_MODBUS_CONNECT', message: r.message };
  }
  const registers = sunspec.ok ? [] : await matchIdentRegisters(transport, unitId, timeoutMs, profiles, () => requests++);
  return { sunspec, identification, registers, requests };
}

function profilesWantRegular(profiles: ReadonlyMap<string, DeviceProfile>): boolean {
  return [...profiles.values()].some((p) => p.protocol === 'modbus' && (p.match?.device_id?.product_name !== undefined || p.match?.device_id?.model_name !== undefined));
}

/**
 * Read each profile's identification registers (each register, or each whole block, once) and
 * keep the profiles whose every one holds what it says. A block (`match.block`) is read in one
 * request, as devices that refuse part of it require, and each register is taken from inside it.
 */
async function matchIdentRegisters(transport: ModbusTransport, unitId: number, timeoutMs: number, profiles: ReadonlyMap<string, DeviceProfile>, count: () => void): Promise<ModbusScan['registers']> {
  const cache = new Map<string, number[] | undefined>();
  const out: ModbusScan['registers'] = [];
  const fetch = async (register: 'holding' | 'input', address: number, n: number): Promise<number[] | undefined | 'closed'> => {
    const key = `${register}:${address}:${n}`;
    if (!cache.has(key)) {
      if (!transport.isOpen && !(await transport.connect()).ok) return 'closed';
      count();
      const got = await transport.read(unitId, register, address, n, timeoutMs);
      cache.set(key, got.ok && got.value.words?.length === n ? got.value.words : undefined);
    }
    return cache.get(key);
  };
  for (const p of profiles.values()) {
    if (p.protocol !== 'modbus' || !p.match?.registers) continue;
    const block = p.match.block;
    const whole = block ? await fetch(block.register, block.address, block.length) : undefined;
    if (whole === 'closed') return out;
    if (block && !whole) continue;
    const matched: string[] = [];
    for (const r of p.match.registers) {
      const n = r.type === 'string' ? (r.length ?? 1) : 1;
      const got = block && whole ? whole.slice(r.address - block.address, r.address - block.address + n) : await fetch(r.register, r.address, n);
      if (got === 'closed') return out;
      const words = got;
      if (!words || words.length !== n) break;
      if (r.type === 'string') {
        const text = String(decodeWords(words, 'string')).replace(/\0+$/, '').trim();
        if (!/^[\x20-\x7e]*$/.test(text) || !new RegExp(r.matches ?? '', 'i').test(text)) break;
        matched.push(`${r.object} ${JSON.stringify(text)}`);
      } else {
        const v = words[0] as number;
        if (!(r.equals ?? []).includes(v)) break;
        matched.push(`${r.object} ${v}`);
      }
    }
    if (matched.length === p.match.registers.length) out.push({ profile: p.id, matched });
  }
  return out;
}

/** What `dcim poll --detect` prints for a Modbus address. */
export interface ModbusDetectReport {
  device: { protocol: 'modbus'; address: string };
  ts: string;
  /** The unit answered at least one request. */
  answered: boolean;
  sunspec: { base: number; models: { id: number; at: number; length: number }[]; common?: SunspecCommon; problem?: { code: ErrorCode; message: string } } | { code: ErrorCode; message: string };
  identification: DeviceIdentification | { code: ErrorCode | 'unsupported'; message: string };
  suggestion?: { profile: string; candidates: ModbusCandidate[]; reason: string; vendor: string; model: string; class: string };
  problem?: string;
  requests: number;
}

export function modbusDetectReport(address: string, ts: number, scan: ModbusScan, profiles: ReadonlyMap<string, DeviceProfile>): ModbusDetectReport {
  const s = scan.sunspec;
  const i = scan.identification;
  const silent = (code: ErrorCode | 'unsupported') => code === 'DCIM_E_MODBUS_TIMEOUT' || code === 'DCIM_E_MODBUS_CONNECT' || code === 'DCIM_E_NET_HOST_UNKNOWN';
  const answered = !(!s.ok && silent(s.code) && !i.ok && silent(i.code));
  const report: ModbusDetectReport = {
    device: { protocol: 'modbus', address },
    ts: new Date(ts).toISOString(),
    answered,
    sunspec: s.ok ? { base: s.chain.base, models: s.chain.models, ...(s.common ? { common: s.common } : {}), ...(s.chain.problem ? { problem: s.chain.problem } : {}) } : { code: s.code, message: s.message },
    identification: i.ok ? i.value : { code: i.code, message: i.message },
    requests: scan.requests,
  };
  if (!answered) return { ...report, problem: `the device did not answer (${s.ok ? '' : s.code})` };
  const d = detectModbusProfile(scan, profiles);
  if (!d.ok) return { ...report, problem: d.reason };
  const p = d.value.profile;
  return { ...report, suggestion: { profile: p.id, candidates: d.value.candidates, reason: d.value.reason, vendor: p.vendor, model: p.model, class: p.class } };
}
