import { describe, expect, it } from 'vitest';
import { InfluxV1Sink } from '../../../collector/store/influx-v1-sink.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';

/**
 * A database that does not exist, against the real influxd 1.x: the writer creates it when it
 * may (and says so), else keeps the points, reports `refusing` with influxd's words, and is `ok`
 * again — with every kept point written — once the database is there.
 */
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0, 0);
const points = (n: number): MetricPoint[] =>
  Array.from({ length: n }, (_, i) => ({ measurement: 'pdu', tags: { site: 'demo', device: `pdu-${i}` }, fields: { active_power_w: 1000 + i }, ts_ms: T0 + i }));

describe('InfluxV1Transport and a missing database (influxd 1.x)', () => {
  const influx = useService('influxd', () => startInfluxV1());
  let dbn = 0;
  const dbName = () => `missing_${process.pid}_${++dbn}`;
  const count = async (db: string) => {
    const series = await influx().query(db, 'SELECT count(active_power_w) FROM pdu');
    return Number(series[0]?.values[0]?.[1] ?? 0);
  };

  it('creates the database when the server lets it, logs that it did, and writes the batch', async () => {
    const db = dbName();
    const logger = memoryLogger();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, logger });
    sink.write(points(5));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_queued: 5, points_written: 5, points_rejected: 0, pending: 0 });
    expect(sink.health()).toMatchObject({ state: 'ok', reason: null, reachable: true });
    expect(logger.lines.filter((l) => l.msg === 'created the missing InfluxDB database')).toEqual([expect.objectContaining({ database: db })]);
    expect(await count(db)).toBe(5);
    await sink.close();
  });

  it('without creating it: keeps the points, says refusing with influxd\'s reason, and recovers once the database exists', async () => {
    const db = dbName();
    const clock = new ManualClock(T0);
    const logger = memoryLogger();
    const sink = new InfluxV1Sink({ url: influx().url, database: db, create_database: false, clock, logger, retry_initial_ms: 1000 });
    sink.write(points(7));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ points_written: 0, points_rejected: 0, points_lost: 0, pending: 7 });
    expect(sink.health()).toMatchObject({ state: 'refusing', reason: `database ${JSON.stringify(db)} not found`, since: T0, reachable: true });
    expect(logger.lines.filter((l) => l.code === 'DCIM_E_STORE_REJECTED')).toHaveLength(1);

    await influx().createDatabase(db);
    clock.advance(1000);
    await until('the kept points written', () => sink.stats().points_written === 7, 60_000);
    expect(sink.health()).toMatchObject({ state: 'ok', reason: null, since: T0 + 1000 });
    expect(sink.stats()).toMatchObject({ pending: 0, points_lost: 0 });
    expect(await count(db)).toBe(7);
    await sink.close();
  });
});
