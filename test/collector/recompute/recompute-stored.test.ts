import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCollectorConfig } from '../../../collector/config.js';
import { recomputeStored, type RecomputeOptions } from '../../../collector/recompute/recompute-stored.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { emptySinkStats, type MetricSink } from '../../../collector/store/metric-sink.js';
import { readingPoints } from '../../../collector/store/reading-points.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock, SiteInventorySchema } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { simulateReadings } from '../../cli/kpi-sim-readings.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * A recompute over many days writes what it recomputes as the values settle (their windows ended
 * more than the engine's late horizon before the newest poll replayed) instead of holding every
 * value to the end: the same points reach the store, and what the replay holds at once stays a
 * few days' worth. Nine days of the two-meter seed, read back from a real SQLite store.
 */
const SEED_FILE = repoPath('seeds', 'minimal.yaml');
const SEED = loadYamlFile(SiteInventorySchema, SEED_FILE);
const PROFILES = loadProfiles();
const START = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const FROM = START + DAY;
const TO = START + 9 * DAY;

/** A store that keeps what it is given, so two recomputes can be compared point for point. */
class RecordingSink implements MetricSink {
  readonly points: MetricPoint[] = [];
  write(points: readonly MetricPoint[]): void {
    this.points.push(...points);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats() {
    return { ...emptySinkStats(), points_queued: this.points.length, points_written: this.points.length };
  }
  health() {
    return { target: 'recording sink', state: 'ok' as const, reason: null, since: null, reachable: true, last_success_ms: null, last_error: null, retry_at_ms: null };
  }
}

const identity = (p: MetricPoint) => JSON.stringify([p.measurement, Object.entries(p.tags).sort(), p.ts_ms, Object.entries(p.fields).sort()]);

let dir: string;
let base: Omit<RecomputeOptions, 'sink'>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-recompute-stored-'));
  const path = join(dir, 'store.sqlite');
  const sim = simulateReadings(SEED, PROFILES, { start_ms: START, duration_ms: 10 * DAY, step_s: 900 });
  const tags = buildSiteRegistry([SEED], PROFILES).get('demo')!.devices;
  const raw = new SqliteSink({ path, clock: new ManualClock(START), retention_ms: 3650 * DAY, logger: memoryLogger() });
  raw.write(sim.messages.flatMap((m) => readingPoints(m, tags.get(m.device)!.tags)));
  await raw.close();
  const file = join(dir, 'collector.yaml');
  writeFileSync(file, `collector: { id: recompute, sites: [${SEED_FILE}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ${path}, retention_days: 3650 }\n`);
  base = { setup: loadCollectorConfig(file), site: 'demo', from_ms: FROM, to_ms: TO, profiles: PROFILES, clock: new ManualClock(TO + DAY), logger: memoryLogger() };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recomputeStored over many days', () => {
  it('writes the same points whether it keeps every value or hands them over as they settle, holding a few days of values', async () => {
    const keptSink = new RecordingSink();
    const kept = await recomputeStored({ ...base, sink: keptSink });
    const streamedSink = new RecordingSink();
    const observed: string[] = [];
    const streamed = await recomputeStored({ ...base, sink: streamedSink, keep_kpis: false, observe: (c) => void observed.push(c.value.window) });

    expect(kept.recomputed).toBeGreaterThan(900);
    expect(kept.kpis).toHaveLength(kept.recomputed);
    expect(streamed.kpis).toEqual([]);
    expect(streamed.recomputed).toBe(kept.recomputed);
    expect(streamed.windows).toEqual(kept.windows);
    expect(observed).toHaveLength(kept.recomputed);
    expect(streamedSink.points.map(identity).sort()).toEqual(keptSink.points.map(identity).sort());
    // Eight days recomputed, about five held at most: the late horizon (3 days) plus its margin (2).
    expect(kept.held_peak).toBeGreaterThanOrEqual(kept.recomputed);
    expect(streamed.held_peak).toBeLessThan(kept.held_peak * 0.8);
  });
});
