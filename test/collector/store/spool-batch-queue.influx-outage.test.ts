import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { createSink } from '../../../collector/store/create-sink.js';
import { ScaledClock, SystemClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * InfluxDB stopped while telemetry keeps flowing through mosquitto into the collector, then
 * started again: every raw point and every live KPI point is in InfluxDB afterwards, read back
 * and counted (docs/design.md §7: nothing is dropped silently; the store spool rides out the outage).
 * The default suite stops influxd for 5 s; DCIM_LONG_TESTS=1 (CI) stops it for two minutes of the
 * sink's time, long enough for the back-off to reach its 30 s ceiling and retry there. The outage
 * ends on conditions read from the sink (its clock past the outage, its retries failed), never on
 * a wall-clock sleep. In the long run the sink's clock runs ten times faster than the wall clock (a
 * ScaledClock), so its back-off timers and the two minutes pass in about 12 s; the store, broker and
 * collector stay real and in real time.
 */
const LONG = process.env.DCIM_LONG_TESTS === '1';
const OUTAGE_MS = LONG ? 120_000 : 5_000;
/** How much faster than the wall clock the sink's clock runs: its back-off and flush timers, its outage. */
const SINK_SPEED = LONG ? 10 : 1;
/** The sink's back-off ceiling (BatchWriter's default retry_max_ms). */
const RETRY_MAX_MS = 30_000;
const SEED = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dcim-outage-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe(`InfluxDB stopped for ${OUTAGE_MS / 1000} s under load`, () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const influx = useService('influxd', () => startInfluxV1());

  it('loses nothing: every raw and live KPI point is read back after the restart', { timeout: OUTAGE_MS + 240_000 }, async () => {
    await influx().createDatabase('outage');
    const logger = memoryLogger('info');
    const spoolDir = path.join(tmp, 'spool');
    const sinkClock = new ScaledClock(new SystemClock(), SINK_SPEED);
    const sink = createSink(
      { kind: 'influx_v1', url: influx().url, database: 'outage', batch_lines: 5000, spool: { dir: spoolDir, max_bytes: 64 * 1024 * 1024, max_age_h: 1, fsync: 'interval', fsync_interval_ms: 200 } },
      { clock: sinkClock, logger },
    );
    const collector = new Collector({ id: 'outage', inventories: [SEED], profiles: loadProfiles(), mqtt: { url: broker().url }, sink, logger, kpiIntervalMs: 1000 });
    await collector.start();
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-outage', protocolVersion: 4 });
    let seq = 0;
    let published = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        const ts = Date.now();
        for (const [device, cls, w] of [['pdu-r01-a', 'pdu', 8000], ['meter-incomer-1', 'meter', 10_000]] as const) {
          const msg = { schema: 1, agent: 'edge-1', site: 'demo', device, class: cls, seq: ++seq, ts, readings: [{ point: 'active_power_w', value: w, unit: 'W', quality: 'good' }], poll: { ms: 3, requests: 1, retries: 0 } };
          await agent.publishAsync(topics.telemetry('demo', 'edge-1', device), JSON.stringify(msg), { qos: 1 });
          published++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await until('first points stored', () => sink.stats().points_written > 20, 60_000);
      await influx().halt();
      const haltedAt = sinkClock.now();
      await until('the store seen unreachable', () => !sink.health().reachable, 60_000);
      expect((await readdir(spoolDir)).some((f) => f.endsWith('.seg'))).toBe(true);
      // Down until the sink's clock has passed the outage and a retry has failed (in the long run: at
      // the back-off ceiling). Bounded by the outage at the slowest the wall clock could make it.
      const retriedAtCeiling = () => logger.lines.some((l) => l.retry_in_ms === RETRY_MAX_MS);
      await until(
        `${OUTAGE_MS / 1000} s of outage on the sink's clock${LONG ? ', with a retry at the back-off ceiling' : ''}`,
        () => sinkClock.now() - haltedAt >= OUTAGE_MS && sink.stats().retries > 0 && (!LONG || retriedAtCeiling()),
        OUTAGE_MS / SINK_SPEED + 120_000,
        () => JSON.stringify({ sink_ms: sinkClock.now() - haltedAt, stats: sink.stats(), health: sink.health() }),
      );
      const during = sink.stats();
      expect(during.pending).toBeGreaterThan(0);
      expect(during.spool?.bytes).toBeGreaterThan(0);
      await influx().restart();
      // Telemetry keeps flowing until the sink has found the store again (its next retry).
      await until('the store reachable again', () => sink.health().reachable, 60_000 + RETRY_MAX_MS / SINK_SPEED, () => JSON.stringify(sink.health()));
    } finally {
      stop = true;
      await publishing;
      await agent.endAsync();
    }
    await until('every message ingested', () => collector.stats().messages_received === published, 60_000);
    await collector.stop(); // flushes what is open into the spool and sends it
    await until('the backlog delivered', () => sink.stats().pending === 0, 120_000);
    const s = sink.stats();
    await sink.close();

    expect(collector.stats()).toMatchObject({ messages_invalid: 0, duplicates: 0, readings_accepted: published });
    expect(s).toMatchObject({ points_lost: 0, points_rejected: 0, points_invalid: 0, pending: 0 });
    expect(s.write_errors).toBeGreaterThan(0);
    expect(s.points_written).toBe(s.points_queued);

    const count = async (q: string) => Number((await influx().query('outage', q))[0]?.values[0]?.[1] ?? 0);
    expect(await count(`SELECT count("active_power_w") FROM "pdu"`)).toBe(published / 2);
    expect(await count(`SELECT count("active_power_w") FROM "meter"`)).toBe(published / 2);
    // One live PUE point per KPI tick, outage or not.
    expect(await count(`SELECT count("status") FROM "kpi" WHERE "kpi" = 'pue_live'`)).toBe(collector.stats().kpi_evaluations);
    expect(logger.lines.some((l) => l.msg === 'store unreachable: batches are kept and sent when it answers')).toBe(true);
    expect(logger.lines.some((l) => l.msg === 'store reachable again: sending the backlog')).toBe(true);
    // The back-off doubled from 1 s and, in the long run, reached its ceiling.
    const delays = logger.lines.filter((l) => l.msg === 'store still unreachable, will retry').map((l) => l.retry_in_ms);
    expect(delays.slice(0, 2)).toEqual([2000, 4000]);
    if (LONG) expect(delays).toContain(RETRY_MAX_MS);
  });
});
