import type { Clock } from '../../contract/clock.js';
import type { Logger } from '../../shared/log.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import type { StoreConfig, StoreSpoolConfig } from '../config.js';
import type { BatchQueue } from './batch-queue.js';
import { InfluxV1Sink } from './influx-v1-sink.js';
import { InfluxV2Sink } from './influx-v2-sink.js';
import type { MetricSink } from './metric-sink.js';
import { SpoolBatchQueue } from './spool-batch-queue.js';
import { SqliteSink } from './sqlite-sink.js';

function spoolQueue(spool: StoreSpoolConfig | undefined, deps: { clock: Clock; logger: Logger }): { queue?: BatchQueue } {
  if (!spool) return {};
  return {
    queue: new SpoolBatchQueue({
      dir: spool.dir,
      max_bytes: spool.max_bytes,
      max_age_ms: spool.max_age_h * 3_600_000,
      fsync: { mode: spool.fsync, intervalMs: spool.fsync_interval_ms },
      ...(spool.segment_bytes !== undefined ? { segment_bytes: spool.segment_bytes } : {}),
      clock: deps.clock,
      logger: deps.logger.child({ component: 'store-spool' }),
    }),
  };
}

/**
 * The sink a config asks for, with its secrets resolved (never logged). Not started: call
 * `sink.start?.()` to open the spool or the SQLite file and fail early on a bad path.
 */
export function createSink(store: StoreConfig, deps: { clock: Clock; logger: Logger; env?: NodeJS.ProcessEnv }): MetricSink {
  const env = deps.env ?? process.env;
  switch (store.kind) {
    case 'sqlite':
      return new SqliteSink({ path: store.path, retention_ms: store.retention_days * 86_400_000, clock: deps.clock, logger: deps.logger.child({ component: 'sqlite-sink' }) });
    case 'influx_v1':
      return new InfluxV1Sink({
        url: store.url,
        database: store.database,
        ...(store.retention_policy !== undefined ? { retention_policy: store.retention_policy } : {}),
        ...(store.username !== undefined ? { username: store.username } : {}),
        ...(store.password !== undefined ? { password: resolveSecret(store.password, 'store.password', env) } : {}),
        batch_lines: store.batch_lines,
        ...(store.max_buffer_lines !== undefined ? { max_buffer_lines: store.max_buffer_lines } : {}),
        ...(store.quarantine_dir !== undefined ? { quarantine_dir: store.quarantine_dir } : {}),
        ...spoolQueue(store.spool, deps),
        clock: deps.clock,
        logger: deps.logger.child({ component: 'influx-v1-sink' }),
      });
    case 'influx_v2':
      return new InfluxV2Sink({
        url: store.url,
        org: store.org,
        bucket: store.bucket,
        token: resolveSecret(store.token, 'store.token', env),
        batch_lines: store.batch_lines,
        ...(store.max_buffer_lines !== undefined ? { max_buffer_lines: store.max_buffer_lines } : {}),
        ...(store.quarantine_dir !== undefined ? { quarantine_dir: store.quarantine_dir } : {}),
        ...spoolQueue(store.spool, deps),
        clock: deps.clock,
        logger: deps.logger.child({ component: 'influx-v2-sink' }),
      });
  }
}
