import { EnergyBuckets } from '../../../collector/ledger/energy-buckets.js';
import { MeterLedger } from '../../../collector/ledger/meter-ledger.js';
import { QUARTER_MS, siteCalendar } from '../../../shared/time/site-calendar.js';

/**
 * A generated meter for the ledger's accuracy tests: a load that changes at poll instants (what
 * happens between two polls no reading can place), a quantised cumulative register that counts
 * it, polls with jitter, dropped runs of polls (gaps), meter swaps and rollovers. Deterministic
 * from its seed.
 */

const S = 1000;
const MIN = 60 * S;
const H = 3_600_000;

/** mulberry32: small, seedable, good enough to draw test cases. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MeterCase {
  seed: number;
  resolution_kwh: number;
  interval_ms: number;
  rated_kw: number;
  windows: number;
  gaps: number;
  reset: boolean;
  rollover: boolean;
}

const RESOLUTIONS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

export function drawCase(seed: number): MeterCase {
  const r = seeded(seed);
  const interval_ms = Math.round(S * Math.exp(Math.log(1) + r() * (Math.log(900) - Math.log(1))));
  // Enough windows to matter, few enough polls to run fast.
  const windows = Math.max(4, Math.min(12, Math.floor((6000 * interval_ms) / QUARTER_MS)));
  return {
    seed,
    resolution_kwh: RESOLUTIONS[Math.floor(r() * RESOLUTIONS.length)]!,
    interval_ms,
    rated_kw: Math.exp(Math.log(1) + r() * (Math.log(500) - Math.log(1))),
    windows,
    gaps: r() < 0.5 ? 1 + Math.floor(r() * 3) : 0,
    reset: r() < 0.3,
    rollover: r() < 0.3,
  };
}

export interface MeterRun {
  c: MeterCase;
  buckets: EnergyBuckets;
  ledger: MeterLedger;
  /** Readings as delivered (gaps left out), in order. */
  readings: { t: number; v: number }[];
  /** Power from each poll instant to the next, kW (changes only at poll instants). */
  truthKwh(from: number, to: number): number;
  /** Power at time t, kW. */
  powerAt(t: number): number;
  /** Poll instants where the load changed, the counter was swapped. */
  loadChanges: number[];
  resetAt: number | undefined;
  modulus_kwh: number | undefined;
  first: number;
  last: number;
  t0: number;
}

// 2026-01-01T00:00:00+08:00, a quarter-hour boundary.
const T0 = Date.UTC(2025, 11, 31, 16);
const cal = siteCalendar('Asia/Shanghai');

/** `assist`: the meter also reports its power at each poll, times `bias` (a miscalibrated power reading). */
export function runCase(c: MeterCase, feed = true, assist?: { bias: number }): MeterRun {
  const r = seeded(c.seed ^ 0x5bd1e995);
  const R = c.resolution_kwh;
  const start = T0 + Math.floor(r() * QUARTER_MS);
  const end = T0 + (c.windows + 1) * QUARTER_MS;
  // Poll instants with ±10 % jitter, never out of order.
  const polls: number[] = [];
  for (let t = start; t < end; t += c.interval_ms) polls.push(Math.round(t + (r() - 0.5) * 0.2 * c.interval_ms));
  const n = polls.length;
  // Dropped runs of 3–30 polls.
  const dropped = new Uint8Array(n);
  for (let g = 0; g < c.gaps; g++) {
    const len = 3 + Math.floor(r() * 28);
    const at = 2 + Math.floor(r() * Math.max(1, n - len - 4));
    for (let i = at; i < Math.min(n - 2, at + len); i++) dropped[i] = 1;
  }
  // Load per poll interval: 1–100 % of rated, changing about every 20 minutes (never inside a gap).
  const pChange = Math.min(0.5, c.interval_ms / (20 * MIN));
  const power = new Float64Array(n);
  const loadChanges: number[] = [];
  let p = c.rated_kw * (0.01 + 0.99 * r());
  for (let i = 0; i < n; i++) {
    if (i > 0 && !dropped[i] && r() < pChange) {
      p = c.rated_kw * (0.01 + 0.99 * r());
      loadChanges.push(polls[i]!);
    }
    power[i] = p;
  }
  // Cumulative true energy at each poll instant.
  const cum = new Float64Array(n);
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1]! + (power[i - 1]! * (polls[i]! - polls[i - 1]!)) / H;
  const total = cum[n - 1]!;
  // The register: steps of R, optionally wrapping at a modulus it passes during the run.
  let modulus_kwh: number | undefined;
  let e0 = Math.floor(r() * 1e5) * R + r() * R;
  if (c.rollover) {
    let k = 16;
    while (2 ** k * R < Math.max(20 * total, 40 * c.rated_kw * (c.interval_ms / H) * 3)) k++;
    modulus_kwh = 2 ** k * R;
    e0 = modulus_kwh - total * (0.2 + 0.6 * r());
  }
  // A swap at a delivered poll whose neighbours were delivered too (inside a gap the energy before it is lost to any reader).
  let resetIdx = c.reset ? 3 + Math.floor(r() * (n - 6)) : -1;
  while (resetIdx > 0 && resetIdx < n - 1 && (dropped[resetIdx - 1] || dropped[resetIdx] || dropped[resetIdx + 1])) resetIdx++;
  if (resetIdx >= n - 1) resetIdx = -1;
  const readings: { t: number; v: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (dropped[i]) continue;
    // A swapped meter starts from 0 at the swap (here: a poll instant).
    const e = resetIdx >= 0 && i >= resetIdx ? cum[i]! - cum[resetIdx]! : e0 + cum[i]!;
    let steps = Math.floor(e / R + 1e-9);
    if (modulus_kwh !== undefined && !(resetIdx >= 0 && i >= resetIdx)) steps %= Math.round(modulus_kwh / R);
    readings.push({ t: polls[i]!, v: steps * R });
  }
  const buckets = new EnergyBuckets({ calendar: cal, quarter_capacity: 96 * 2, day_capacity: 0 });
  const ledger = new MeterLedger({
    mode: 'counter',
    interval_ms: c.interval_ms,
    rated_kw: c.rated_kw,
    modulus_kwh,
    resolution: { step_kwh: R, relative: 0, decimal: false },
    sinks: [buckets],
    power_assist: assist !== undefined,
  });
  const powerOf = new Map<number, number>();
  for (let i = 0; i < n; i++) powerOf.set(polls[i]!, power[i]!);
  if (feed) {
    for (const x of readings) {
      ledger.sample(x.t, x.v);
      if (assist) ledger.power(x.t, powerOf.get(x.t)! * 1000 * assist.bias);
    }
  }
  const truthKwh = (from: number, to: number): number => {
    let e = 0;
    for (let i = 0; i + 1 < n; i++) {
      const a = Math.max(from, polls[i]!);
      const b = Math.min(to, polls[i + 1]!);
      if (b > a) e += (power[i]! * (b - a)) / H;
    }
    return e;
  };
  const powerAt = (t: number): number => {
    let i = 0;
    while (i + 1 < n && polls[i + 1]! <= t) i++;
    return power[i]!;
  };
  return { c, buckets, ledger, readings, truthKwh, powerAt, loadChanges, resetAt: resetIdx >= 0 ? polls[resetIdx] : undefined, modulus_kwh, first: readings[0]!.t, last: readings.at(-1)!.t, t0: T0 };
}

export { QUARTER_MS };
