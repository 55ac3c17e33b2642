import { createLogger } from '../../contract/index.js';
import { Agent, loadAgentConfig } from '../../agent/index.js';
import { formatListenAddress } from '../../agent/metrics/listen-address.js';
import { DURATION_OPTION, durationMs, helpText, parseCommandArgs, requiredString, type CommandSpec } from '../args.js';
import type { Command } from '../dcim.js';
import { runUntilSignal } from '../run-until-signal.js';

const spec: CommandSpec = {
  name: 'agent',
  summary: 'poll the devices of a site over SNMP and Modbus by profile and publish their readings to MQTT',
  usage: 'dcim agent --config agent.yaml [--check]',
  options: {
    config: { type: 'string', short: 'c', placeholder: 'file', description: 'agent config (YAML); see README "Agent config"' },
    check: { type: 'boolean', description: 'validate the config, its seed, the profile references, the secrets, the TLS files and the metrics address without polling, then exit' },
    'duration-s': DURATION_OPTION,
  },
};

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  const file = requiredString(spec, parsed.values, 'config');
  const cfg = loadAgentConfig(file);
  const devices = cfg.deviceIds ?? cfg.inventory.devices.map((d) => d.id);
  if (parsed.values.check) {
    const metrics = cfg.metrics ? `metrics on ${formatListenAddress(cfg.metrics)}` : 'no metrics endpoint';
    console.log(`${file}: ok (agent ${cfg.id}, site ${cfg.inventory.site.id}, ${devices.length} devices, ${cfg.profiles.size} profiles, ${metrics}, health every ${cfg.health.intervalMs / 1000} s)`);
    return 0;
  }
  const logger = createLogger({ base: { part: 'agent', agent: cfg.id, site: cfg.inventory.site.id } });
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
  logger.info('agent started', { devices: devices.length });
  await runUntilSignal(() => agent.stop(), durationMs(parsed.values));
  return 0;
}

export const command: Command = { spec, run };
