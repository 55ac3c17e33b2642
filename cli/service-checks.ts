import { DcimError, type SecretRef } from '../contract/index.js';
import { readSecretFile, resolveSecret } from '../shared/config/secrets.js';
import { notifiersFromConfig } from '../collector/alerts/alerts-config.js';
import type { AlertsConfig } from '../collector/alerts/index.js';
import type { CollectorConfig } from '../collector/config.js';
import { apiTls, listenHostPort } from '../collector/from-config.js';
import { checkListen } from './bind-check.js';
import type { MetricSink } from '../collector/store/metric-sink.js';

/** What the collector and the bureau both connect with: a broker, a store, an optional HTTP API. */
type ServiceConnections = Pick<CollectorConfig, 'mqtt' | 'store' | 'http'>;

/**
 * `--check` of a collector or a bureau: every secret the start resolves (set, readable,
 * owner-only), all problems at once; the start would stop at the first.
 */
export function checkServiceSecrets(c: ServiceConnections, alerts: AlertsConfig, env: NodeJS.ProcessEnv): void {
  const problems: DcimError[] = [];
  const attempt = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (e instanceof DcimError) problems.push(e);
      else throw e;
    }
  };
  const secret = (ref: SecretRef, name: string) => attempt(() => resolveSecret(ref, name, env));
  if (c.mqtt.password !== undefined) secret(c.mqtt.password, 'mqtt.password');
  if (c.mqtt.tls?.key_file !== undefined) attempt(() => readSecretFile(c.mqtt.tls!.key_file!, 'mqtt.tls.key_file', env));
  if (c.http) secret(c.http.token, 'http.token');
  const store = c.store;
  if (store.kind === 'influx_v1' && store.password !== undefined) secret(store.password, 'store.password');
  if (store.kind === 'influx_v2') secret(store.token, 'store.token');
  // Notifiers resolve their secrets when built and open nothing until they send.
  attempt(() => notifiersFromConfig(alerts, { env, publish: () => Promise.resolve() }));
  if (problems.length === 0) return;
  const codes = new Set(problems.map((p) => p.code));
  throw new DcimError(codes.size === 1 ? problems[0]!.code : 'DCIM_E_CONFIG_INVALID', `${problems.length} secret problem(s)`, problems.map((p) => p.message));
}

/** The stop line: "written" only for what the store took; the rest named. */
export function storeSummary(sink: MetricSink): Record<string, unknown> {
  const s = sink.stats();
  const h = sink.health();
  return { points_written: s.points_written, points_rejected: s.points_rejected, points_lost: s.points_lost, points_pending: s.pending, store: h.target, store_state: h.state, ...(h.reason ? { store_reason: h.reason } : {}) };
}

/**
 * `--check` of a collector or a bureau: its secrets, then the HTTP API's address bound and let go
 * and its certificate, key permissions and pair read as the start would read them.
 */
export async function checkServiceBinds(c: ServiceConnections, alerts: AlertsConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  checkServiceSecrets(c, alerts, env);
  const http = c.http;
  if (!http) return [];
  const { host, port } = listenHostPort(http.listen);
  const notes = [await checkListen('http.listen', host, port)];
  if (http.tls) {
    apiTls(http.tls, env);
    notes.push('http.tls: certificate and key ok (HTTPS)');
  }
  return notes;
}
