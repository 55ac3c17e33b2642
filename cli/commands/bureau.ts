import { createLogger, DcimError, readSecretFile, resolveSecret } from '../../contract/index.js';
import { notifiersFromConfig } from '../../collector/alerts/index.js';
import { RESTORED_QUARTER_DAYS } from '../../collector/bureau/bureau.js';
import { loadBureauConfig, type BureauSetup } from '../../collector/bureau/bureau-config.js';
import { createBureauFromConfig } from '../../collector/bureau/from-config.js';
import { apiTls, listenHostPort } from '../../collector/from-config.js';
import type { MetricSink } from '../../collector/store/metric-sink.js';
import { checkListen } from '../bind-check.js';
import { componentCommand } from '../component-command.js';

/** `--check`: every secret the start resolves, all problems at once. */
function checkSecrets(setup: BureauSetup, env: NodeJS.ProcessEnv): void {
  const c = setup.config;
  const problems: DcimError[] = [];
  const attempt = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (e instanceof DcimError) problems.push(e);
      else throw e;
    }
  };
  if (c.mqtt.password !== undefined) attempt(() => resolveSecret(c.mqtt.password!, 'mqtt.password', env));
  if (c.mqtt.tls?.key_file !== undefined) attempt(() => readSecretFile(c.mqtt.tls!.key_file!, 'mqtt.tls.key_file', env));
  if (c.http) attempt(() => resolveSecret(c.http!.token, 'http.token', env));
  const store = c.store;
  if (store.kind === 'influx_v1' && store.password !== undefined) attempt(() => resolveSecret(store.password!, 'store.password', env));
  if (store.kind === 'influx_v2') attempt(() => resolveSecret(store.token, 'store.token', env));
  // Notifiers resolve their secrets when built and open nothing until they send.
  attempt(() => notifiersFromConfig(setup.alerts, { env, publish: () => Promise.resolve() }));
  if (problems.length === 0) return;
  const codes = new Set(problems.map((p) => p.code));
  throw new DcimError(codes.size === 1 ? problems[0]!.code : 'DCIM_E_CONFIG_INVALID', `${problems.length} secret problem(s)`, problems.map((p) => p.message));
}

function storeSummary(sink: MetricSink): Record<string, unknown> {
  const s = sink.stats();
  const h = sink.health();
  return { points_written: s.points_written, points_rejected: s.points_rejected, points_lost: s.points_lost, points_pending: s.pending, store: h.target, store_state: h.state };
}

export const command = componentCommand({
  name: 'bureau',
  summary: "subscribe to the sites' KPI summaries on the bureau broker, store them, roll up every site and cluster, alert silent sites",
  config_help: 'bureau config (YAML); see docs/bureau.md',
  check_help: 'validate the config and its clusters file, resolve every secret, bind the HTTP API address and release it, read the HTTPS certificate and key (http.tls), then exit',
  load: (file) => loadBureauConfig(file),
  describe(setup) {
    const sites = new Set(setup.clusters.flatMap((c) => c.sites));
    return [`${sites.size} site(s), ${setup.clusters.length} cluster(s), store ${setup.config.store.kind}`, ...setup.clusters.map((c) => `cluster ${c.id} (${c.sites.join(', ')})`)].join(', ');
  },
  // The SQLite store keeps day and month summaries past its retention, not quarter hours and hours.
  warnings: (setup) =>
    setup.config.store.kind === 'sqlite' && setup.config.store.retention_days < RESTORED_QUARTER_DAYS
      ? [`DCIM_E_STORE_RETENTION_SHORT: store.retention_days ${setup.config.store.retention_days}: the bureau reads the last ${RESTORED_QUARTER_DAYS} days of quarter-hour and hour summaries back at start; a restart would lose those older than the retention (today's and the late-data days' figures)`]
      : [],
  async checkBinds(setup) {
    checkSecrets(setup, process.env);
    const http = setup.config.http;
    if (!http) return [];
    const { host, port } = listenHostPort(http.listen);
    const notes = [await checkListen('http.listen', host, port)];
    if (http.tls) {
      apiTls(http.tls, process.env);
      notes.push('http.tls: certificate and key ok (HTTPS)');
    }
    return notes;
  },
  async start(setup, signal) {
    const logger = createLogger({ base: { part: 'bureau', bureau: setup.config.bureau.id } });
    const { bureau, sink } = createBureauFromConfig(setup, { logger });
    const onAbort = () => void bureau.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await bureau.start();
    } catch (e) {
      await bureau.stop().catch(() => undefined);
      await sink.close();
      if (signal.aborted) return () => Promise.resolve();
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return async () => {
      await bureau.stop();
      await sink.close();
      logger.info('bureau stopped', { ...storeSummary(sink), ...bureau.stats() });
    };
  },
});
