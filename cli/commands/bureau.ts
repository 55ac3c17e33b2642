import { createLogger } from '../../shared/log.js';
import { RESTORED_QUARTER_DAYS } from '../../collector/bureau/bureau.js';
import { loadBureauConfig } from '../../collector/bureau/bureau-config.js';
import { createBureauFromConfig } from '../../collector/bureau/from-config.js';
import { checkServiceBinds, storeSummary } from '../service-checks.js';
import { componentCommand } from '../component-command.js';

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
  warnings: (setup) => [
    ...setup.deprecations.map((line) => `DCIM_E_CONFIG_DEPRECATED: ${line}`),
    ...(setup.config.store.kind === 'sqlite' && setup.config.store.retention_days < RESTORED_QUARTER_DAYS
      ? [`DCIM_E_STORE_RETENTION_SHORT: store.retention_days ${setup.config.store.retention_days}: the bureau reads the last ${RESTORED_QUARTER_DAYS} days of quarter-hour and hour summaries back at start; a restart would lose those older than the retention (today's and the late-data days' figures)`]
      : []),
  ],
  checkBinds(setup) {
    return checkServiceBinds(setup.config, setup.alerts, process.env);
  },
  async start(setup, signal) {
    const logger = createLogger({ base: { part: 'bureau', bureau: setup.config.bureau.id } });
    for (const line of setup.deprecations) logger.warn('deprecated setting', { code: 'DCIM_E_CONFIG_DEPRECATED', setting: line });
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
