import { siteAgents } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { createCollectorFromConfig, loadCollectorConfig } from '../../collector/index.js';
import { checkServiceBinds, storeSummary } from '../service-checks.js';
import { componentCommand } from '../component-command.js';

export const command = componentCommand({
  name: 'collector',
  summary: 'subscribe to a site broker, compute KPIs, write raw readings and KPIs to the store',
  config_help: 'collector config (YAML); see README "Collector config"',
  check_help: 'validate the config, its seeds and the profiles, resolve every secret (set, readable, owner-only files), bind the HTTP API address and release it, read the HTTPS certificate and key (http.tls), then exit',
  load: (file) => ({ setup: loadCollectorConfig(file), profiles: loadProfiles() }),
  describe({ setup, profiles }) {
    const devices = setup.inventories.reduce((n, i) => n + i.devices.length, 0);
    const clusters = setup.clusters.map((c) => `cluster ${c.id} (${c.sites.join(', ')})`);
    return [`${setup.inventories.length} site(s), ${devices} devices, ${profiles.size} profiles, store ${setup.config.store.kind}`, ...clusters].join(', ');
  },
  // An open site accepts any agent speaking as itself: fine in a lab, not behind a broker ACL.
  warnings: ({ setup }) => [
    ...setup.deprecations.map((line) => `DCIM_E_CONFIG_DEPRECATED: ${line}`),
    ...setup.inventories.filter((inv) => siteAgents(inv).size === 0).map((inv) => `DCIM_E_SITE_OPEN: site ${inv.site.id} names no device owner (site.agent, devices[].agent): any agent may speak for its devices`),
  ],
  checkBinds({ setup }) {
    return checkServiceBinds(setup.config, setup.config.alerts, process.env);
  },
  async start({ setup, profiles }, signal) {
    const logger = createLogger({ base: { part: 'collector', collector: setup.config.collector.id } });
    for (const line of setup.deprecations) logger.warn('deprecated setting', { code: 'DCIM_E_CONFIG_DEPRECATED', setting: line });
    const { collector, sink } = createCollectorFromConfig(setup, { logger, profiles });
    const stop = async () => {
      await collector.stop();
      await sink.close();
      logger.info('collector stopped', storeSummary(sink));
    };
    // A stop asked while the collector still waits for its broker ends the wait.
    const onAbort = () => void collector.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await collector.start();
    } catch (e) {
      await collector.stop().catch(() => undefined);
      await sink.close();
      if (signal.aborted) {
        logger.info('collector stopped before it was connected', storeSummary(sink));
        return () => Promise.resolve();
      }
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    logger.info('collector started', { sites: setup.inventories.map((i) => i.site.id), store: setup.config.store.kind });
    return stop;
  },
});
