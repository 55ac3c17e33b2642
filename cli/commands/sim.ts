import { resolve } from 'node:path';
import { SiteInventorySchema, createLogger, loadProfiles, loadYamlFile } from '../../contract/index.js';
import { startSimSite } from '../../simulators/index.js';
import { helpText, numberOption, parseCommandArgs, stringOption, type CommandSpec } from '../args.js';
import type { Command } from '../dcim.js';
import { runUntilSignal } from '../run-until-signal.js';

const spec: CommandSpec = {
  name: 'sim',
  summary: 'serve a simulated site over real SNMP and Modbus, at the addresses in its seed',
  usage: 'dcim sim --seed seeds/<site>.yaml [--speed N] [--ephemeral]',
  optionsFile: true,
  options: {
    seed: { type: 'string', placeholder: 'file', description: 'site inventory to simulate', default: 'seeds/demo.yaml' },
    speed: { type: 'string', placeholder: 'N', description: 'simulated seconds per real second (60 = a simulated minute per second)', default: '1' },
    'rng-seed': { type: 'string', placeholder: 'N', description: 'random seed of the load model (same seed, same site)', default: '1' },
    ephemeral: { type: 'boolean', description: "bind free loopback ports instead of the seed's ports" },
    'duration-s': { type: 'string', placeholder: 's', description: 'stop by itself after this many seconds' },
    'truth-every-s': { type: 'string', placeholder: 's', description: 'print the ground truth (site power and PUE) this often; 0 = never', default: '10' },
  },
};

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  const { values } = parsed;
  const seedFile = resolve(stringOption(values, 'seed') ?? 'seeds/demo.yaml');
  const inventory = loadYamlFile(SiteInventorySchema, seedFile);
  const speed = numberOption(values, 'speed', 0.001, 1_000_000) ?? 1;
  const rngSeed = numberOption(values, 'rng-seed', 0, 2 ** 31) ?? 1;
  const durationS = numberOption(values, 'duration-s', 1, 31_536_000);
  const truthEveryS = numberOption(values, 'truth-every-s', 0, 86_400) ?? 10;
  const logger = createLogger({ base: { part: 'sim' } });
  const sim = await startSimSite({ inventory, profiles: loadProfiles(), speed, rngSeed, bind: values.ephemeral ? 'ephemeral' : 'seed', logger });
  console.log(`dcim sim: site ${inventory.site.id} (${inventory.site.name}) from ${seedFile}, speed ${speed}x`);
  for (const e of sim.endpoints()) {
    const sel = e.protocol === 'snmp' ? `community ${e.community ?? '?'}` : `unit ${e.unit_id ?? '?'}`;
    console.log(`  ${e.device.padEnd(24)} ${e.protocol.padEnd(6)} ${e.host}:${e.port}  ${sel}`);
  }
  const timer =
    truthEveryS > 0
      ? setInterval(() => {
          const t = sim.truth();
          console.log(`${new Date(t.sim_ts).toISOString()} (sim)  facility ${(t.facility_power_w / 1000).toFixed(2)} kW  IT ${(t.it_power_w / 1000).toFixed(2)} kW  PUE ${t.pue.toFixed(3)}  outdoor ${t.outdoor_temp_c.toFixed(1)} °C`);
        }, truthEveryS * 1000)
      : undefined;
  await runUntilSignal(async () => {
    if (timer) clearInterval(timer);
    await sim.stop();
  }, durationS === undefined ? undefined : durationS * 1000);
  return 0;
}

export const command: Command = { spec, run };
