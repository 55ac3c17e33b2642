import { createLogger, loadProfiles } from '../../contract/index.js';
import { createCollectorFromConfig, loadCollectorConfig } from '../../collector/index.js';
import { DURATION_OPTION, durationMs, helpText, parseCommandArgs, requiredString, type CommandSpec } from '../args.js';
import type { Command } from '../dcim.js';
import { runUntilSignal } from '../run-until-signal.js';

const spec: CommandSpec = {
  name: 'collector',
  summary: 'subscribe to a site broker, compute KPIs, write raw readings and KPIs to the store',
  usage: 'dcim collector --config collector.yaml [--check]',
  options: {
    config: { type: 'string', short: 'c', placeholder: 'file', description: 'collector config (YAML); see README "Collector config"' },
    check: { type: 'boolean', description: 'validate the config, its seeds and the profiles, then exit' },
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
  const setup = loadCollectorConfig(file);
  const profiles = loadProfiles();
  if (parsed.values.check) {
    const devices = setup.inventories.reduce((n, i) => n + i.devices.length, 0);
    console.log(`${file}: ok (${setup.inventories.length} site(s), ${devices} devices, ${profiles.size} profiles, store ${setup.config.store.kind})`);
    return 0;
  }
  const logger = createLogger({ base: { part: 'collector', collector: setup.config.collector.id } });
  const { collector, sink } = createCollectorFromConfig(setup, { logger, profiles });
  try {
    await collector.start();
  } catch (e) {
    await sink.close();
    throw e;
  }
  logger.info('collector started', { sites: setup.inventories.map((i) => i.site.id), store: setup.config.store.kind });
  await runUntilSignal(async () => {
    await collector.stop();
    await sink.close();
  }, durationMs(parsed.values));
  return 0;
}

export const command: Command = { spec, run };
