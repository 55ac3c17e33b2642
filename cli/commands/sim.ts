import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DcimError, SiteInventorySchema, SystemClock, type SiteInventory } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { ControlServer } from '../../simulators/control/control-server.js';
import { TruthFileWriter } from '../../simulators/control/truth-file-writer.js';
import { FaultsFileSchema, startSimSite, type FaultSpec, type SimSite } from '../../simulators/index.js';
import { DURATION_OPTION, durationMs, helpText, numberOption, parseCommandArgs, stringOption, stringsOption, type CommandSpec } from '../args.js';
import type { Command } from '../dcim.js';
import { runUntilSignal } from '../run-until-signal.js';

const spec: CommandSpec = {
  name: 'sim',
  summary: 'serve simulated sites over real SNMP, Modbus and Redfish, with faults and ground truth',
  usage: 'dcim sim --seed seeds/<site>.yaml [--seed …] [--speed N] [--faults file] [--control-port P] [--truth-file F]',
  optionsFile: true,
  options: {
    seed: { type: 'string', multiple: true, placeholder: 'file|dir', description: 'site inventory to simulate; repeat it, or name a folder of seeds, for several sites', default: 'seeds/demo.yaml' },
    speed: { type: 'string', placeholder: 'N', description: 'simulated seconds per real second (60 = a simulated minute per second)', default: '1' },
    'rng-seed': { type: 'string', placeholder: 'N', description: 'random seed of the model (same seed, same site)', default: '1' },
    ephemeral: { type: 'boolean', description: "bind free loopback ports instead of the seeds' ports" },
    faults: { type: 'string', placeholder: 'file', description: 'YAML faults by device id ({faults: {<device>: [...]}, sites: {<site>: {...}}})' },
    'control-port': { type: 'string', placeholder: 'P', description: 'port of the HTTP control API on 127.0.0.1 (0 = any free port)', default: '0' },
    'truth-file': { type: 'string', placeholder: 'file', description: 'keep the ground truth (JSON) in this file' },
    'truth-file-every-s': { type: 'string', placeholder: 's', description: 'rewrite the truth file this often', default: '10' },
    'truth-every-s': { type: 'string', placeholder: 's', description: 'print the ground truth (site power and PUE) this often; 0 = never', default: '10' },
    list: { type: 'boolean', description: 'print every device, also for large sites (default: per-port summary above 100 devices)' },
    'duration-s': DURATION_OPTION,
  },
};

/** Above this many devices a site prints one line per listening port, not per device. */
const LIST_LIMIT = 100;

/** Every `--seed`: each value is a file, a folder (its *.yaml, sorted) or a comma list. */
function seedFiles(given: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of given) {
    for (const part of value.split(',').filter((p) => p.length > 0)) {
      const path = resolve(part);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        // A missing file is reported by the loader with its path.
      }
      if (isDir) out.push(...readdirSync(path).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort().map((f) => join(path, f)));
      else out.push(path);
    }
  }
  return [...new Set(out)];
}

/** The faults file's devices, per site; a bare device id must name exactly one site's device. */
function faultsBySite(file: string, inventories: readonly SiteInventory[]): Map<string, Record<string, FaultSpec[]>> {
  const doc = loadYamlFile(FaultsFileSchema, file);
  const out = new Map<string, Record<string, FaultSpec[]>>(inventories.map((inv) => [inv.site.id, {}]));
  const problems: string[] = [];
  for (const [site, devices] of Object.entries(doc.sites)) {
    const target = out.get(site);
    if (!target) problems.push(`${file}: sites.${site}: no such site among the seeds`);
    else Object.assign(target, devices);
  }
  for (const [device, specs] of Object.entries(doc.faults)) {
    const owners = inventories.filter((inv) => inv.devices.some((d) => d.id === device));
    if (owners.length === 1) out.get(owners[0]!.site.id)![device] = [...(out.get(owners[0]!.site.id)![device] ?? []), ...specs];
    else if (owners.length === 0) problems.push(`${file}: faults.${device}: no such device in ${inventories.map((i) => i.site.id).join(', ')}`);
    else problems.push(`${file}: faults.${device}: the id is in ${owners.map((o) => o.site.id).join(' and ')}; put it under sites.<site>`);
  }
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} problem(s)`, problems);
  return out;
}

function printSite(site: SimSite, file: string, all: boolean): void {
  const endpoints = site.endpoints();
  console.log(`site ${site.id} (${site.name}) from ${file}: ${endpoints.length} devices on ${site.listeners().length} ports`);
  if (all || endpoints.length <= LIST_LIMIT) {
    for (const e of endpoints) {
      const sel =
        e.protocol === 'snmp'
          ? e.snmp_version === '3'
            ? `v3 user ${e.user} context "${e.context}"`
            : `v${e.snmp_version} community ${e.community}`
          : e.protocol === 'modbus'
            ? `unit ${e.unit_id}${e.transport === 'rtu_over_tcp' ? ' (RTU over TCP)' : ''}`
            : `${e.scheme}://${e.host}:${e.port}/redfish/v1`;
      console.log(`  ${e.device.padEnd(28)} ${e.protocol.padEnd(7)} ${e.host}:${e.port}  ${sel}`);
    }
    return;
  }
  const bmcs = site.listeners().filter((l) => l.protocol === 'redfish');
  for (const l of site.listeners()) {
    if (l.protocol === 'redfish') continue;
    const what = l.protocol === 'modbus' ? (l.transport === 'rtu_over_tcp' ? 'modbus RTU over TCP, by unit id' : 'modbus TCP, by unit id') : 'snmp, by community / v3 context';
    console.log(`  ${l.host}:${l.port}  ${what}: ${l.devices} devices`);
  }
  if (bmcs.length > 0) {
    const ports = bmcs.map((l) => l.port).sort((a, b) => a - b);
    console.log(`  ${bmcs[0]!.host}:${ports[0]}-${ports[ports.length - 1]}  redfish, one BMC per port: ${bmcs.length} devices`);
  }
  console.log('  (--list prints every device; GET /sites/<site>/devices on the control API lists them as JSON)');
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  const { values } = parsed;
  const files = seedFiles(stringsOption(values, 'seed'));
  if (files.length === 0) throw new DcimError('DCIM_E_CONFIG_INVALID', '--seed: no seed files found');
  const inventories = files.map((f) => loadYamlFile(SiteInventorySchema, f));
  const ids = inventories.map((i) => i.site.id);
  const dup = ids.find((id, k) => ids.indexOf(id) !== k);
  if (dup !== undefined) throw new DcimError('DCIM_E_CONFIG_INVALID', `--seed: site ${dup} is given twice`);
  const speed = numberOption(values, 'speed', 0.001, 1_000_000) ?? 1;
  const rngSeed = numberOption(values, 'rng-seed', 0, 2 ** 31) ?? 1;
  const truthEveryS = numberOption(values, 'truth-every-s', 0, 86_400) ?? 10;
  const controlPort = numberOption(values, 'control-port', 0, 65_535) ?? 0;
  const truthFileEveryS = numberOption(values, 'truth-file-every-s', 1, 86_400) ?? 10;
  const faultsFile = stringOption(values, 'faults');
  const faults = faultsFile === undefined ? undefined : faultsBySite(resolve(faultsFile), inventories);
  const logger = createLogger({ base: { part: 'sim' } });
  const clock = new SystemClock();
  const profiles = loadProfiles();
  const started = Date.now();

  const sites: SimSite[] = [];
  const stopAll = async () => {
    for (const s of sites.reverse()) await s.stop();
  };
  let control: ControlServer | undefined;
  let writer: TruthFileWriter | undefined;
  try {
    for (const [k, inventory] of inventories.entries()) {
      sites.push(
        await startSimSite({ inventory, file: files[k]!, profiles, speed, rngSeed, clock, bind: values.ephemeral ? 'ephemeral' : 'seed', logger, faults: faults?.get(inventory.site.id) ?? {} }),
      );
    }
    control = new ControlServer({ port: controlPort, target: { sites, uptimeMs: () => Date.now() - started }, logger });
    await control.start();
    const truthFile = stringOption(values, 'truth-file');
    if (truthFile !== undefined) {
      writer = new TruthFileWriter({ path: resolve(truthFile), sites, every_ms: truthFileEveryS * 1000, clock, logger });
      await writer.start();
    }
  } catch (e) {
    await control?.stop();
    await stopAll();
    throw e;
  }

  console.log(`dcim sim: ${sites.length} site(s), speed ${speed}x, started in ${Date.now() - started} ms`);
  sites.forEach((s, k) => printSite(s, files[k]!, values.list === true));
  console.log(`control API: ${control.url()}  (GET /sites, PUT /sites/<site>/devices/<device>/faults/<kind>, GET /sites/<site>/truth)`);
  if (writer) console.log(`truth file: ${resolve(stringOption(values, 'truth-file')!)} (every ${truthFileEveryS} s and on stop)`);

  const timer =
    truthEveryS > 0
      ? setInterval(() => {
          for (const s of sites) {
            try {
              const t = s.truth(undefined, { devices: false });
              console.log(
                `${new Date(t.sim_ts).toISOString()} (sim) ${s.id}  facility ${(t.live.facility_power_w / 1000).toFixed(2)} kW  IT ${(t.live.it_power_w / 1000).toFixed(2)} kW  PUE ${t.live.pue === null ? '-' : t.live.pue.toFixed(3)}  outdoor ${t.live.outdoor_temp_c.toFixed(1)} °C`,
              );
            } catch (e) {
              logger.warn('no truth to print', { site: s.id, error: e as Error });
            }
          }
        }, truthEveryS * 1000)
      : undefined;
  await runUntilSignal(async () => {
    if (timer) clearInterval(timer);
    await control?.stop();
    await writer?.stop();
    await stopAll();
  }, durationMs(values));
  return 0;
}

export const command: Command = { spec, run };
