import { SystemClock, type Clock } from '../../contract/clock.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { notifiersFromConfig } from '../alerts/index.js';
import { storedSummariesFor } from '../federation/stored-summaries.js';
import type { StoredSummaries } from '../federation/summary-store.js';
import { apiOptions, mqttConnection } from '../from-config.js';
import { createSink } from '../store/create-sink.js';
import type { MetricSink } from '../store/metric-sink.js';
import { SqliteSink } from '../store/sqlite-sink.js';
import { Bureau } from './bureau.js';
import type { BureauSetup } from './bureau-config.js';

/**
 * A loaded bureau config → a ready (not started) bureau and the sink it writes to; the caller
 * owns both (`await bureau.start()`, then `await bureau.stop(); await sink.close()`). The store it
 * writes is also where it reads its summaries back at start.
 */
export function createBureauFromConfig(setup: BureauSetup, deps: { clock?: Clock; logger?: Logger; env?: NodeJS.ProcessEnv; stored?: StoredSummaries } = {}): { bureau: Bureau; sink: MetricSink } {
  const { config } = setup;
  const clock = deps.clock ?? new SystemClock();
  const logger = deps.logger ?? createLogger({ base: { component: 'bureau', bureau: config.bureau.id } });
  const env = deps.env ?? process.env;
  const mqtt = mqttConnection(config.mqtt, env);
  const http = config.http ? apiOptions(config.http, env) : undefined;
  const sink = createSink(config.store, { clock, logger, env });
  // The MQTT notifier publishes through the bureau's own session (called only after start).
  const notifiers = notifiersFromConfig(setup.alerts, { env, publish: (site, id, msg) => bureau.publishAlert(site, id, msg) });
  const stored = deps.stored ?? storedSummariesFor(config.store, env, sink instanceof SqliteSink ? sink : undefined);
  const bureau = new Bureau({
    id: config.bureau.id,
    clusters: setup.clusters,
    mqtt: { ...mqtt, clientId: mqtt.clientId ?? `dcim-bureau-${config.bureau.id}` },
    sink,
    clock,
    logger,
    tickMs: config.kpi.interval_s * 1000,
    settleMs: config.kpi.settle_s * 1000,
    lateDays: config.kpi.late_days,
    silentAfterWindows: config.bureau.silent_after_windows,
    maxSkewMs: config.bureau.max_skew_s * 1000,
    stored,
    notifiers,
    alertExpireMs: config.alerts.expire_h * 3_600_000,
    ...(http ? { http } : {}),
  });
  return { bureau, sink };
}
