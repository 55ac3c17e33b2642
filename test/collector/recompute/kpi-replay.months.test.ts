import { beforeAll, describe, expect, it } from 'vitest';
import { KpiEngine, type ClosedKpi } from '../../../collector/kpi-engine.js';
import { KpiReplay } from '../../../collector/recompute/kpi-replay.js';
import { kpiKey } from '../../../contract/kpi-catalogue.js';
import { SiteInventorySchema } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { simulateReadings } from '../../cli/kpi-sim-readings.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * A replay of months (a year's recompute) holds what the year windows need — a sum per meter group
 * and an occupancy judgement per local day — and days of everything else, whatever the time
 * replayed: the signatures the engine remembers to emit only what changed, and the closed values
 * the replay holds until they settle. Counted structurally (entries, not bytes), day by day over
 * 45 days of the two-meter seed polled every 15 minutes, across a month's end.
 */
const SEED = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));
const PROFILES = loadProfiles();
const DAY = 86_400_000;
/** 2026-06-01T00:00 in Asia/Shanghai (the seed's zone). */
const START = Date.UTC(2026, 5, 1) - 8 * 3_600_000;
const DAYS = 45;
const SIM = simulateReadings(SEED, PROFILES, { start_ms: START, duration_ms: DAYS * DAY, step_s: 900 });

interface Run {
  handed: ClosedKpi[];
  /** At each local day's end: the engine's held state and the replay's held values. */
  daily: { signatures: number; occupancy_days: number; replay_held: number }[];
}

/** Feeds the polls up to `until` as a recompute does, handing values over as they settle. */
function replay(until: number): Run {
  const engine = KpiEngine.create({ inventories: [SEED], profiles: PROFILES });
  const r = new KpiReplay(engine);
  const handed: ClosedKpi[] = [];
  const daily: Run['daily'] = [];
  let nextDay = START + DAY;
  for (const m of SIM.messages) {
    if (m.ts > until) break;
    if (m.ts >= nextDay) {
      handed.push(...r.settled());
      const h = engine.heldState();
      daily.push({ signatures: h.signatures, occupancy_days: h.occupancy_days, replay_held: r.held });
      nextDay += DAY;
    }
    r.feed({ site: m.site, device: m.device, ts: m.ts, readings: m.readings });
  }
  handed.push(...r.finish({ to_ms: until }));
  return { handed, daily };
}

const identity = (c: ClosedKpi) => `${c.scope}|${c.id}|${kpiKey(c.value)}|${c.value.window_end}`;

describe('a replay of months', () => {
  let long: Run;
  beforeAll(() => {
    long = replay(START + DAYS * DAY);
  });

  it('holds days of signatures and values whatever the months replayed; only the occupancy days grow, one a day', () => {
    expect(long.daily).toHaveLength(DAYS);
    // Filled by day 6 (the late horizon, 3 days, plus its margin, 2): later days hold no more.
    const early = long.daily.slice(5, 20);
    const late = long.daily.slice(25);
    const most = (rows: Run['daily'], k: 'signatures' | 'replay_held') => Math.max(...rows.map((d) => d[k]));
    expect(most(late, 'signatures')).toBeLessThanOrEqual(most(early, 'signatures'));
    expect(most(late, 'replay_held')).toBeLessThanOrEqual(most(early, 'replay_held'));
    // Days of values, not the 45 days' worth handed over.
    expect(most(long.daily, 'signatures')).toBeLessThan(long.handed.length / 4);
    // One occupancy judgement per local day, kept for the month and year windows.
    const days = long.daily.map((d) => d.occupancy_days);
    for (let i = 6; i < days.length; i++) expect(days[i]! - days[i - 1]!).toBe(1);
  });

  it('hands every window over once, the last calendar year too, with the values of a shorter replay', () => {
    const ids = long.handed.map(identity);
    expect(new Set(ids).size).toBe(ids.length);
    // The calendar year before the replay (no data: insufficient) is evaluated at every edge and emitted once.
    expect(long.handed.filter((c) => c.value.window === '1y' && c.scope === 'site' && c.value.kpi === 'pue')).toHaveLength(1);

    // The first 20 days replayed alone: every window of theirs has the long replay's value.
    const shortTo = START + 20 * DAY;
    const short = replay(shortTo);
    const inShort = (c: ClosedKpi) => c.value.window_start >= START && c.value.window_end <= shortTo;
    const byId = new Map(long.handed.filter(inShort).map((c) => [identity(c), c.value]));
    const mine = short.handed.filter(inShort);
    expect(mine.length).toBeGreaterThan(1500);
    expect(mine.length).toBe(byId.size);
    for (const c of mine) expect(byId.get(identity(c)), identity(c)).toEqual(c.value);
  });
});
