import { createLogger } from '../../shared/log.js';
import { Agent, loadAgentConfig } from '../../agent/index.js';
import { formatListenAddress } from '../../agent/metrics/listen-address.js';
import { checkListen } from '../bind-check.js';
import { componentCommand } from '../component-command.js';

export const command = componentCommand({
  name: 'agent',
  summary: 'poll the devices of a site over SNMP and Modbus by profile and publish their readings to MQTT',
  config_help: 'agent config (YAML); see README "Agent config"',
  check_help: 'validate the config, its seed, the profile references, the secrets (and their file permissions), the SNMPv3 security levels and the TLS files, list weak SNMPv3 settings, bind the metrics address and release it, without polling, then exit',
  load: loadAgentConfig,
  describe(cfg) {
    const devices = cfg.deviceIds ?? cfg.inventory.devices.map((d) => d.id);
    const metrics = cfg.metrics ? `metrics on ${formatListenAddress(cfg.metrics)}` : 'no metrics endpoint';
    return `agent ${cfg.id}, site ${cfg.inventory.site.id}, ${devices.length} devices, ${cfg.profiles.size} profiles, ${metrics}, health every ${cfg.health.intervalMs / 1000} s`;
  },
  warnings: (cfg) => cfg.warnings.map((w) => `${w.code}: ${w.line}`),
  async checkBinds(cfg) {
    return cfg.metrics ? [await checkListen('metrics.listen', cfg.metrics.host, cfg.metrics.port)] : [];
  },
  async start(cfg) {
    const logger = createLogger({ base: { part: 'agent', agent: cfg.id, site: cfg.inventory.site.id } });
    for (const w of cfg.warnings) logger.warn(w.code === 'DCIM_E_CONFIG_DEPRECATED' ? 'deprecated setting' : 'weak setting', { code: w.code, setting: w.line });
    const agent = new Agent({
      id: cfg.id,
      inventory: cfg.inventory,
      profiles: cfg.profiles,
      mqtt: cfg.mqtt,
      stateDir: cfg.stateDir,
      spool: cfg.spool,
      ...cfg.polling,
      ...(cfg.metrics ? { metrics: cfg.metrics } : {}),
      health: cfg.health,
      logger,
      ...(cfg.deviceIds ? { deviceIds: cfg.deviceIds } : {}),
    });
    await agent.start();
    logger.info('agent started', { devices: (cfg.deviceIds ?? cfg.inventory.devices).length });
    return () => agent.stop();
  },
});
