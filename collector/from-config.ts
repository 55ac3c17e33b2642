import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { SystemClock, type Clock } from '../contract/clock.js';
import { DcimError } from '../contract/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { DeviceProfile } from '../contract/profile.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { readSecretFile, resolveSecret } from '../shared/config/secrets.js';
import { Collector, type CollectorOptions } from './collector.js';
import type { CollectorSetup, HttpConfig, KpiConfig, MqttConfig, StoreConfig } from './config.js';
import { restoreAtStart, type RestoreSources } from './federation/restore.js';
import { storedSummariesFor } from './federation/stored-summaries.js';
import type { KpiEngine, KpiEngineConfig } from './kpi-engine.js';
import { storedReadingsFor } from './recompute/recompute-stored.js';
import { SqliteSink } from './store/sqlite-sink.js';
import { createAlertEngine } from './alerts/index.js';
import { createSink } from './store/create-sink.js';
import type { MetricSink } from './store/metric-sink.js';

/** `host:port` (validated by the config schema) → its parts; brackets of an IPv6 host removed. */
export function listenHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

/** The config's KPI options in the engine's units. */
export function kpiEngineConfig(k: KpiConfig): Partial<KpiEngineConfig> {
  return { settle_ms: k.settle_s * 1000, late_days: k.late_days, on_rack: { ...k.on_rack }, stale_carry: { max_ms: k.stale_carry.max_s * 1000, max_share: k.stale_carry.max_share } };
}

function readTlsFile(file: string, what: string, env: NodeJS.ProcessEnv): Buffer {
  // The private key is a secret: held to the secret-file rule (owner only).
  if (what === 'key_file') return readSecretFile(file, `mqtt.tls.${what}`, env);
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `mqtt.tls.${what}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** http.tls: the files read and the pair checked now, so a wrong key fails at start with its setting named. */
export function apiTls(files: { cert_file: string; key_file: string }, env: NodeJS.ProcessEnv): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  try {
    cert = readFileSync(files.cert_file);
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `http.tls.cert_file: cannot read ${files.cert_file}: ${(e as Error).message}`);
  }
  const key = readSecretFile(files.key_file, 'http.tls.key_file', env);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_INVALID', `http.tls: ${files.cert_file} and ${files.key_file} are not a usable certificate and key pair: ${(e as Error).message}`);
  }
  return { cert, key };
}

/** The mqtt section → the broker connection (secrets resolved, TLS files read); the collector's and the bureau's. */
export function mqttConnection(m: MqttConfig, env: NodeJS.ProcessEnv): { url: string; username?: string; password?: string; clientId?: string; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; reject_unauthorized: boolean } } {
  const tls = m.tls;
  return {
    url: m.url,
    ...(m.username !== undefined ? { username: m.username } : {}),
    ...(m.password !== undefined ? { password: resolveSecret(m.password, 'mqtt.password', env) } : {}),
    ...(m.client_id !== undefined ? { clientId: m.client_id } : {}),
    ...(tls
      ? {
          tls: {
            ...(tls.ca_file ? { ca: readTlsFile(tls.ca_file, 'ca_file', env) } : {}),
            ...(tls.cert_file ? { cert: readTlsFile(tls.cert_file, 'cert_file', env) } : {}),
            ...(tls.key_file ? { key: readTlsFile(tls.key_file, 'key_file', env) } : {}),
            reject_unauthorized: tls.reject_unauthorized,
          },
        }
      : {}),
  };
}

/** The http section → the API server's options (token resolved, certificate pair checked). */
export function apiOptions(http: HttpConfig, env: NodeJS.ProcessEnv): { host: string; port: number; token: string; cors_origin?: string; max_connections: number; tls?: { cert: Buffer; key: Buffer } } {
  return {
    ...listenHostPort(http.listen),
    token: resolveSecret(http.token, 'http.token', env),
    ...(http.cors_origin !== undefined ? { cors_origin: http.cors_origin } : {}),
    max_connections: http.max_connections,
    ...(http.tls ? { tls: apiTls(http.tls, env) } : {}),
  };
}

/** Where a restart's history comes from: the collector's own SQLite handle, or InfluxQL on the configured InfluxDB. */
function restoreSources(store: StoreConfig, env: NodeJS.ProcessEnv, sink: MetricSink): RestoreSources & { readonly problems: readonly string[] } {
  const sqlite = sink instanceof SqliteSink ? sink : undefined;
  const summaries = storedSummariesFor(store, env, sqlite);
  return { summaries, readings: storedReadingsFor(store, env, sqlite), get problems() { return summaries.problems; } };
}

/**
 * A loaded config → a ready (not started) collector and the sink it writes to. The caller owns
 * both: `await collector.start()`, and on shutdown `await collector.stop(); await sink.close()`.
 * Without `profiles` the built-in ones are loaded: they tell each meter's power point and each
 * device's class.
 */
export function createCollectorFromConfig(
  setup: CollectorSetup,
  deps: { clock?: Clock; logger?: Logger; env?: NodeJS.ProcessEnv; profiles?: ReadonlyMap<string, DeviceProfile>; onKpi?: CollectorOptions['onKpi'] } = {},
): { collector: Collector; sink: MetricSink } {
  const { config } = setup;
  const clock = deps.clock ?? new SystemClock();
  const logger = deps.logger ?? createLogger({ base: { component: 'collector', collector: config.collector.id } });
  const env = deps.env ?? process.env;
  const sink = createSink(config.store, { clock, logger, env });
  const m = config.mqtt;
  const http = config.http;
  const profiles = deps.profiles ?? loadProfiles();
  // The alert engine publishes through the collector's subscriber (called only after start).
  const alerts = createAlertEngine(config.alerts, {
    inventories: setup.inventories,
    profiles,
    clock,
    logger: logger.child({ component: 'alerts' }),
    env,
    publish: (site, id, msg) => collector.publishAlert(site, id, msg),
  });
  const collector = new Collector({
    id: config.collector.id,
    inventories: setup.inventories,
    clusters: setup.clusters,
    mqtt: { ...mqttConnection(m, env), accept_legacy_topics: m.accept_legacy_topics },
    sink,
    clock,
    logger,
    kpiIntervalMs: config.kpi.interval_s * 1000,
    publishEveryMs: config.kpi.publish_every_s * 1000,
    kpi: kpiEngineConfig(config.kpi),
    ...(http ? { http: apiOptions(http, env) } : {}),
    profiles,
    alerts,
    federation: { publish_summaries: config.federation.publish_summaries },
    ...(config.kpi.restore_history ? { restore: (engine: KpiEngine, now_ms: number) => restoreAtStart(engine, () => restoreSources(config.store, env, sink), now_ms, logger.child({ component: 'restore' })) } : {}),
    ...(deps.onKpi ? { onKpi: deps.onKpi } : {}),
  });
  return { collector, sink };
}
