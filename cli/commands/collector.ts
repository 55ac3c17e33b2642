import { createLogger, loadProfiles } from '../../contract/index.js';
import { createCollectorFromConfig, loadCollectorConfig } from '../../collector/index.js';
import { componentCommand } from '../component-command.js';

export const command = componentCommand({
  name: 'collector',
  summary: 'subscribe to a site broker, compute KPIs, write raw readings and KPIs to the store',
  config_help: 'collector config (YAML); see README "Collector config"',
  check_help: 'validate the config, its seeds and the profiles, then exit',
  load: (file) => ({ setup: loadCollectorConfig(file), profiles: loadProfiles() }),
  describe({ setup, profiles }) {
    const devices = setup.inventories.reduce((n, i) => n + i.devices.length, 0);
    return `${setup.inventories.length} site(s), ${devices} devices, ${profiles.size} profiles, store ${setup.config.store.kind}`;
  },
  async start({ setup, profiles }) {
    const logger = createLogger({ base: { part: 'collector', collector: setup.config.collector.id } });
    const { collector, sink } = createCollectorFromConfig(setup, { logger, profiles });
    try {
      await collector.start();
    } catch (e) {
      await sink.close();
      throw e;
    }
    logger.info('collector started', { sites: setup.inventories.map((i) => i.site.id), store: setup.config.store.kind });
    return async () => {
      await collector.stop();
      await sink.close();
    };
  },
});
