import { UNITS, type DeviceProfile, type ErrorCode, type PlausibilityCheck, type Reading, type Unit } from '../../contract/index.js';
import { pointBounds, TO_BASE, widensDefault, type Bounds } from './bounds.js';

/**
 * Plausibility of one device's readings, before anything is published (docs/plausibility.md).
 * A reader decodes; this judges what it decoded:
 * - bounds: outside its unit's physical bounds or its profile's range → `bad`, no value
 *   (DCIM_E_VALUE_OUT_OF_RANGE): a value that cannot be true must reach neither a KPI nor a chart;
 * - cross-checks the profile declares (P against V × I, parts against their total) → the
 *   checked point `bad` (or `uncertain` where the profile says so), DCIM_E_VALUE_INCONSISTENT;
 * - a cumulative counter that went backwards outside a rollover → `uncertain` with its value
 *   (DCIM_E_COUNTER_DECREASED): it may be a real reset, which the collector's ledger books;
 * - a live point unchanged for `stuck_polls` polls → `uncertain` with its value (DCIM_E_VALUE_STUCK).
 * Sentinels are recognised earlier, by the decoders (DCIM_E_VALUE_UNAVAILABLE).
 *
 * Stateful per device (the last counter value, the run of identical values): one instance per
 * device reader, fed its polls in order.
 */

/** Codes this module and the decoders' sentinel check give implausible readings; counted in /metrics. */
export const PLAUSIBILITY_CODES = ['DCIM_E_VALUE_UNAVAILABLE', 'DCIM_E_VALUE_OUT_OF_RANGE', 'DCIM_E_VALUE_INCONSISTENT', 'DCIM_E_VALUE_STUCK', 'DCIM_E_COUNTER_DECREASED'] as const satisfies readonly ErrorCode[];
export type PlausibilityCode = (typeof PLAUSIBILITY_CODES)[number];
const CODE_SET: ReadonlySet<string> = new Set(PLAUSIBILITY_CODES);

/** Whether an error code is one of PLAUSIBILITY_CODES. */
export function isPlausibilityCode(code: string | undefined): code is PlausibilityCode {
  return code !== undefined && CODE_SET.has(code);
}

/** A live point's value may repeat this many polls in a row before it is called stuck. */
export const DEFAULT_STUCK_POLLS = 30;
/** A counter that falls from at least this share of its maximum has rolled over, not gone back. */
export const ROLLOVER_NEAR_MAX = 0.9;

/** What plausibility needs of one profile point. */
export interface PointRule {
  name: string;
  unit?: Unit | undefined;
  bounds?: Bounds | undefined;
  /** Cumulative: must not decrease (energy units, `counter_max`). */
  cumulative: boolean;
  counterMax?: number | undefined;
  /** Polls of identical value before `stuck`; undefined when the point is not live. */
  stuckPolls?: number | undefined;
}

type PointLike = {
  name: string;
  unit?: Unit | undefined;
  min?: number | undefined;
  max?: number | undefined;
  live?: boolean | undefined;
  stuck_polls?: number | undefined;
  counter_max?: number | undefined;
  kpi?: string | undefined;
};

const ENERGY_UNITS: ReadonlySet<Unit | undefined> = new Set<Unit | undefined>(['Wh', 'kWh']);

/** Every point of a profile with its plausibility rule, by name. */
export function pointRules(profile: DeviceProfile): Map<string, PointRule> {
  const rules = new Map<string, PointRule>();
  for (const p of profilePointObjects(profile)) {
    rules.set(p.name, {
      name: p.name,
      unit: p.unit,
      bounds: pointBounds(p.unit, p.min, p.max),
      cumulative: ENERGY_UNITS.has(p.unit) || p.counter_max !== undefined || p.kpi === 'energy_kwh',
      counterMax: p.counter_max,
      stuckPolls: p.live ? (p.stuck_polls ?? DEFAULT_STUCK_POLLS) : undefined,
    });
  }
  return rules;
}

/** The point objects themselves (with their plausibility keys), wherever the profile keeps them. */
export function profilePointObjects(profile: DeviceProfile): PointLike[] {
  const p = profile as unknown as {
    points?: PointLike[];
    tables?: { columns: PointLike[] }[];
    resources?: { points: PointLike[] }[];
    collections?: { points: PointLike[] }[];
  };
  return [...(p.points ?? []), ...(p.tables ?? []).flatMap((t) => t.columns), ...(p.resources ?? []).flatMap((r) => r.points), ...(p.collections ?? []).flatMap((c) => c.points)];
}

/** The point names a declared check refers to. */
export function checkPoints(c: PlausibilityCheck): string[] {
  return c.kind === 'power_vs_vi' ? [c.power, ...[c.voltage, c.current].flat()] : [c.total, ...c.parts];
}

/**
 * What is wrong with a profile's plausibility keys, for checkProfile: a check naming a point the
 * profile does not have or of a unit it cannot compare (it would never be judged, silently), a
 * range whose min is not below its max, a range wider than its unit's bounds without `range_why`.
 */
export function plausibilityProblems(profile: DeviceProfile): string[] {
  const problems: string[] = [];
  const points = new Map(profilePointObjects(profile).map((p) => [p.name, p]));
  for (const p of points.values()) {
    if (p.min !== undefined && p.max !== undefined && !(p.min < p.max)) problems.push(`point ${p.name}: min ${p.min} is not below max ${p.max}`);
    if (widensDefault(p.unit, p.min, p.max) && !(p as { range_why?: string }).range_why) problems.push(`point ${p.name}: range wider than the bounds of ${p.unit} needs range_why (the document that allows it)`);
  }
  (profile.checks ?? []).forEach((c, i) => {
    const where = `checks[${i}] (${c.kind})`;
    const missing = checkPoints(c).filter((n) => !points.has(n));
    if (missing.length > 0) return void problems.push(`${where}: no point ${missing.join(', ')} in this profile`);
    const unit = (n: string) => points.get(n)?.unit;
    if (c.kind === 'power_vs_vi') {
      if (!['W', 'kW', 'VA'].includes(unit(c.power) ?? '')) problems.push(`${where}: power ${c.power} is in ${unit(c.power) ?? 'no unit'}, expected W, kW or VA`);
      for (const v of [c.voltage].flat()) if (unit(v) !== 'V') problems.push(`${where}: voltage ${v} is in ${unit(v) ?? 'no unit'}, expected V`);
      for (const a of [c.current].flat()) if (unit(a) !== 'A') problems.push(`${where}: current ${a} is in ${unit(a) ?? 'no unit'}, expected A`);
    } else {
      const q = (n: string) => quantityOf(unit(n));
      for (const part of c.parts) if (q(part) !== q(c.total)) problems.push(`${where}: part ${part} (${unit(part) ?? 'no unit'}) cannot be added to total ${c.total} (${unit(c.total) ?? 'no unit'})`);
    }
  });
  return problems;
}

function quantityOf(unit: Unit | undefined): string {
  return unit === undefined ? 'none' : UNITS[unit].quantity;
}

function seriesKey(r: Pick<Reading, 'point' | 'index'>): string {
  if (!r.index) return r.point;
  const parts = Object.entries(r.index)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? r.point : `${r.point}{${parts.join(',')}}`;
}

/** The index part of a series key: rows of different columns pair on it. */
function indexKey(r: Pick<Reading, 'index'>): string {
  return seriesKey({ point: '', index: r.index });
}

/** A reading's numeric value (Counter64 decimal strings included), or undefined. */
export function numericValue(r: Reading): number | undefined {
  if (typeof r.value === 'number') return r.value;
  if (typeof r.value === 'string' && /^\d{1,20}$/.test(r.value)) return Number(r.value);
  return undefined;
}

function reject(r: Reading, code: ErrorCode): Reading {
  const { value: _v, error: _e, ...rest } = r;
  return { ...rest, value: null, quality: 'bad', error: code };
}

function doubt(r: Reading, code: ErrorCode): Reading {
  return { ...r, quality: 'uncertain', error: code };
}

/** What was found wrong with one reading, for the log. */
export interface Finding {
  point: string;
  index?: Reading['index'];
  code: PlausibilityCode;
  detail: string;
}

/**
 * The rules of one profile object, built once and shared by every device of that model: they
 * depend on the profile alone, and 10,000 PDUs × 20 points would otherwise hold 200,000 copies
 * (about 3 KB per device). Read-only once built; a profile is not changed after it is loaded.
 */
const sharedRules = new WeakMap<DeviceProfile, ReadonlyMap<string, PointRule>>();
export function profileRules(profile: DeviceProfile): ReadonlyMap<string, PointRule> {
  let rules = sharedRules.get(profile);
  if (!rules) {
    rules = pointRules(profile);
    sharedRules.set(profile, rules);
  }
  return rules;
}

export class PlausibilityChecker {
  private readonly rules: ReadonlyMap<string, PointRule>;
  private readonly checks: readonly PlausibilityCheck[];
  /** Last accepted value of each cumulative series; made on the first one (most devices have few or none). */
  private lastCounter: Map<string, number> | undefined;
  /** Each live series' last value and how many polls in a row it had it; made on the first. */
  private runs: Map<string, { value: number; polls: number }> | undefined;

  constructor(profile: DeviceProfile) {
    // Per profile, not per device; the state below is this device's alone.
    this.rules = profileRules(profile);
    this.checks = profile.checks ?? [];
  }

  /** One poll's readings → the same readings, judged. Findings describe every change made. */
  check(readings: readonly Reading[]): { readings: Reading[]; findings: Finding[] } {
    const findings: Finding[] = [];
    const note = (r: Reading, code: PlausibilityCode, detail: string) => findings.push({ point: r.point, ...(r.index ? { index: r.index } : {}), code, detail });
    const out = readings.map((r) => {
      const v = r.quality === 'good' ? numericValue(r) : undefined;
      const b = this.rules.get(r.point)?.bounds;
      if (v === undefined || !b || (v >= b.min && v <= b.max)) return r;
      note(r, 'DCIM_E_VALUE_OUT_OF_RANGE', `${v}${r.unit ? ` ${r.unit}` : ''} outside [${b.min}, ${b.max}]`);
      return reject(r, 'DCIM_E_VALUE_OUT_OF_RANGE');
    });
    for (const c of this.checks) {
      if (c.kind === 'power_vs_vi') this.powerVsVi(c, out, note);
      else this.sum(c, out, note);
    }
    for (let i = 0; i < out.length; i++) {
      const r = out[i] as Reading;
      const rule = this.rules.get(r.point);
      if (!rule || r.quality !== 'good') continue;
      const v = numericValue(r);
      if (v === undefined) continue;
      const key = seriesKey(r);
      if (rule.cumulative) {
        const counters = (this.lastCounter ??= new Map());
        const prev = counters.get(key);
        counters.set(key, v);
        const rolledOver = rule.counterMax !== undefined && prev !== undefined && prev >= rule.counterMax * ROLLOVER_NEAR_MAX;
        if (prev !== undefined && v < prev && !rolledOver) {
          note(r, 'DCIM_E_COUNTER_DECREASED', `${prev} → ${v}`);
          out[i] = doubt(r, 'DCIM_E_COUNTER_DECREASED');
          continue;
        }
      }
      if (rule.stuckPolls !== undefined) {
        const runs = (this.runs ??= new Map());
        const run = runs.get(key);
        if (run && run.value === v) run.polls++;
        else runs.set(key, { value: v, polls: 1 });
        const polls = run && run.value === v ? run.polls : 1;
        // An idle load reads exactly zero for as long as it is idle: that is not a frozen sensor.
        if (v !== 0 && polls >= rule.stuckPolls) {
          note(r, 'DCIM_E_VALUE_STUCK', `${v} for ${polls} polls`);
          out[i] = doubt(r, 'DCIM_E_VALUE_STUCK');
        }
      }
    }
    return { readings: out, findings };
  }

  /** Good numeric readings of one point, in base units (W, V, A …), by index key. */
  private values(readings: readonly Reading[], point: string): Map<string, { i: number; v: number }> {
    const m = new Map<string, { i: number; v: number }>();
    readings.forEach((r, i) => {
      if (r.point !== point || r.quality !== 'good') return;
      const v = numericValue(r);
      if (v === undefined) return;
      const unit = r.unit ?? this.rules.get(point)?.unit;
      m.set(indexKey(r), { i, v: v * (unit !== undefined ? (TO_BASE[unit] ?? 1) : 1) });
    });
    return m;
  }

  /** Rows of one point in this poll, good or not: a check is judged only when all of them are good. */
  private rowCount(readings: readonly Reading[], point: string): number {
    let n = 0;
    for (const r of readings) if (r.point === point) n++;
    return n;
  }

  private powerVsVi(c: Extract<PlausibilityCheck, { kind: 'power_vs_vi' }>, out: Reading[], note: (r: Reading, code: PlausibilityCode, d: string) => void): void {
    const P = this.values(out, c.power);
    if (Array.isArray(c.voltage) && Array.isArray(c.current)) {
      // One voltage and one current point per phase, paired by position, against a scalar power.
      const total = P.get('');
      if (!total) return;
      let s = 0;
      for (let k = 0; k < c.voltage.length; k++) {
        const v = this.values(out, c.voltage[k] as string).get('');
        const a = this.values(out, c.current[k] as string).get('');
        if (!v || !a) return;
        s += Math.abs(v.v * a.v);
      }
      this.judgePower(c, out, total, s * c.phases, note);
      return;
    }
    if (Array.isArray(c.voltage) || Array.isArray(c.current)) return;
    const V = this.values(out, c.voltage);
    const I = this.values(out, c.current);
    if (P.size === 0 || V.size === 0 || I.size === 0) return;
    if (V.size !== this.rowCount(out, c.voltage) || I.size !== this.rowCount(out, c.current)) return;
    const scalarV = V.get('');
    const scalarI = I.get('');
    /** Apparent power of one row (or of the whole device when the power is a scalar over rows). */
    const apparent = (row: string): number | undefined => {
      if (row !== '' || (scalarV && scalarI)) {
        const v = V.get(row)?.v ?? scalarV?.v;
        const a = I.get(row)?.v ?? scalarI?.v;
        return v === undefined || a === undefined ? undefined : Math.abs(v * a) * c.phases;
      }
      // Scalar power over per-row voltage and current: the rows' V × I add up.
      const rows = new Set([...V.keys(), ...I.keys()].filter((k) => k !== ''));
      let s = 0;
      for (const k of rows) {
        const v = V.get(k)?.v ?? scalarV?.v;
        const a = I.get(k)?.v ?? scalarI?.v;
        if (v === undefined || a === undefined) return undefined;
        s += Math.abs(v * a);
      }
      return s * c.phases;
    };
    for (const [row, p] of P) {
      const s = apparent(row);
      if (s !== undefined) this.judgePower(c, out, p, s, note);
    }
  }

  /** One power reading against the apparent power `s` (VA) its V and I allow. */
  private judgePower(c: Extract<PlausibilityCheck, { kind: 'power_vs_vi' }>, out: Reading[], p: { i: number; v: number }, s: number, note: (r: Reading, code: PlausibilityCode, d: string) => void): void {
    const r = out[p.i] as Reading;
    const abs = Math.abs(p.v);
    let detail: string | undefined;
    if (abs > s * c.headroom + c.allowance) detail = `|P| ${round(abs)} W > V × I ${round(s)} VA × ${c.headroom} + ${c.allowance}`;
    else if (c.min_power_factor !== undefined && s >= c.min_apparent_va && abs < s * c.min_power_factor) detail = `|P| ${round(abs)} W < V × I ${round(s)} VA × power factor ${c.min_power_factor}`;
    if (detail === undefined) return;
    note(r, 'DCIM_E_VALUE_INCONSISTENT', detail);
    out[p.i] = c.quality === 'bad' ? reject(r, 'DCIM_E_VALUE_INCONSISTENT') : doubt(r, 'DCIM_E_VALUE_INCONSISTENT');
  }

  private sum(c: Extract<PlausibilityCheck, { kind: 'sum' }>, out: Reading[], note: (r: Reading, code: PlausibilityCode, d: string) => void): void {
    const total = this.values(out, c.total).get('');
    if (!total) return;
    let parts = 0;
    for (const name of c.parts) {
      const rows = this.values(out, name);
      if (rows.size === 0 || rows.size !== this.rowCount(out, name)) return;
      for (const { v } of rows.values()) parts += v;
    }
    const gap = Math.abs(total.v - parts);
    if (gap <= c.tolerance * Math.max(Math.abs(total.v), Math.abs(parts)) + c.allowance) return;
    const r = out[total.i] as Reading;
    note(r, 'DCIM_E_VALUE_INCONSISTENT', `total ${round(total.v)} against parts ${round(parts)} (${c.parts.join(' + ')})`);
    out[total.i] = c.quality === 'bad' ? reject(r, 'DCIM_E_VALUE_INCONSISTENT') : doubt(r, 'DCIM_E_VALUE_INCONSISTENT');
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Counts a poll's implausible readings by code into `into`. */
export function countImplausible(readings: readonly Reading[], into: Partial<Record<PlausibilityCode, number>>): number {
  let n = 0;
  for (const r of readings) {
    if (r.error === undefined || !CODE_SET.has(r.error)) continue;
    const code = r.error as PlausibilityCode;
    into[code] = (into[code] ?? 0) + 1;
    n++;
  }
  return n;
}
