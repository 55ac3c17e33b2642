import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ClustersFileSchema,
  DcimError,
  SiteInventorySchema,
  loadYamlFile,
  siteAgents,
  topics,
  type SiteInventory,
} from '../../contract/index.js';
import { readSecretFile } from '../../contract/secrets.js';
import { UsageError, helpText, parseCommandArgs, stringOption, stringsOption, type CommandSpec } from '../args.js';
import type { Command } from '../dcim.js';

/**
 * `dcim broker-config`: mosquitto's ACL and password file from the site inventories, so the broker
 * enforces what the collector checks (docs/security.md "The broker"): each agent may publish only
 * its own state and the telemetry and status of the devices the inventory gives it, nothing else;
 * the collector reads those and is the only one who may publish KPI and alert topics; anyone
 * else gets nothing (mosquitto denies what no ACL line grants).
 *
 * User names: `<site>.<agent>` for an agent (ids cannot hold a dot, so it never collides with
 * another agent or with the collector's user), `collector` for the collector unless told. With
 * client certificates (`use_identity_as_username`), the certificate's CN must be that name.
 *
 * The password file is written here in mosquitto 2's own format (PBKDF2-SHA512, `$7$`), the one
 * `mosquitto_passwd` writes, rather than by running `mosquitto_passwd -b`, which would put every
 * password on a command line where `ps` shows it.
 */
export const BROKER_CONFIG_SPEC: CommandSpec = {
  name: 'broker-config',
  summary: "mosquitto's ACL and password file for per-agent identities, from the site inventories",
  usage: 'dcim broker-config --inventory seeds/site.yaml [--inventory …] [--clusters file] --out dir [--password-dir dir | --identity certificate]',
  options: {
    inventory: { type: 'string', multiple: true, placeholder: 'file', description: 'a site inventory (repeat for several sites on one broker); every device must name its owning agent (site.agent or devices[].agent)' },
    clusters: { type: 'string', placeholder: 'file', description: "the collector's clusters file: the collector may also publish each cluster's KPI topic (the site.cluster names count without it)" },
    out: { type: 'string', placeholder: 'dir', description: 'write `acl` and (with passwords) `passwd` into this folder' },
    identity: { type: 'string', placeholder: 'password|certificate', description: 'how clients prove who they are: a password file, or a client certificate whose CN is the user name (mosquitto use_identity_as_username)', default: 'password' },
    'password-dir': { type: 'string', placeholder: 'dir', description: 'with --identity password: one file per user, named after it (collector, <site>.<agent>), holding its password (the file the agent or collector config names in mqtt.password)' },
    'collector-user': { type: 'string', placeholder: 'name', description: "the collector's broker user", default: 'collector' },
    viewer: { type: 'string', multiple: true, placeholder: 'name', description: 'a user who may read the KPI and alert topics (a dashboard, an on-call bridge); repeat for more' },
    'legacy-topics': { type: 'boolean', description: 'also grant the old device topics without the agent (dcim/v1/<site>/devices/<device>/…), owner only, while agents are upgraded' },
  },
};

export interface BrokerAclInput {
  inventories: readonly SiteInventory[];
  /** Cluster ids whose KPI topic the collector publishes. */
  clusters?: readonly string[];
  collector_user?: string;
  viewers?: readonly string[];
  legacy_topics?: boolean;
}

export const agentUser = (site: string, agent: string): string => `${site}.${agent}`;

/** The ACL and the users it names; throws when a site has a device without an owner. */
export function brokerAcl(input: BrokerAclInput): { acl: string; users: string[] } {
  const collector = input.collector_user ?? 'collector';
  const problems: string[] = [];
  const lines = [
    '# mosquitto acl_file written by `dcim broker-config`; regenerate it when an inventory changes.',
    `# Sites: ${input.inventories.map((i) => i.site.id).join(', ')}. A user no line names may neither publish nor subscribe.`,
    '',
    '# The collector reads what the agents publish and alone publishes KPIs and alerts.',
    `user ${collector}`,
  ];
  const users = [collector];
  const sites = input.inventories.map((i) => i.site.id);
  const clusters = [...new Set([...(input.clusters ?? []), ...input.inventories.flatMap((i) => (i.site.cluster !== undefined ? [i.site.cluster] : []))])].filter((c) => !sites.includes(c));
  for (const site of sites) {
    lines.push(`topic read ${topics.filters.agentState(site)}`, `topic read ${topics.filters.telemetry(site)}`, `topic read ${topics.filters.deviceStatus(site)}`);
    if (input.legacy_topics) lines.push(`topic read ${topics.legacy.filters.telemetry(site)}`, `topic read ${topics.legacy.filters.deviceStatus(site)}`);
    lines.push(`topic readwrite ${topics.kpi(site)}`, `topic readwrite ${topics.filters.alerts(site)}`);
  }
  for (const cluster of clusters) lines.push(`topic readwrite ${topics.kpi(cluster)}`);

  for (const viewer of input.viewers ?? []) {
    lines.push('', `# A viewer: KPIs and alerts, read only.`, `user ${viewer}`);
    users.push(viewer);
    for (const scope of [...sites, ...clusters]) lines.push(`topic read ${topics.kpi(scope)}`);
    for (const site of sites) lines.push(`topic read ${topics.filters.alerts(site)}`);
  }

  for (const inv of input.inventories) {
    const site = inv.site.id;
    const owned = siteAgents(inv);
    const orphans = inv.devices.filter((d) => ![...owned.values()].some((ids) => ids.includes(d.id)));
    if (orphans.length > 0) problems.push(`site ${site}: ${orphans.length} device(s) name no owning agent (site.agent or devices[].agent), e.g. ${orphans[0]!.id}`);
    for (const [agent, devices] of owned) {
      const user = agentUser(site, agent);
      users.push(user);
      lines.push('', `# Agent ${agent} of site ${site}: its state and the ${devices.length} device(s) it owns.`, `user ${user}`, `topic write ${topics.agentState(site, agent)}`);
      for (const device of devices) {
        lines.push(`topic write ${topics.telemetry(site, agent, device)}`, `topic write ${topics.deviceStatus(site, agent, device)}`);
        if (input.legacy_topics) lines.push(`topic write ${topics.legacy.telemetry(site, device)}`, `topic write ${topics.legacy.deviceStatus(site, device)}`);
      }
    }
  }
  const dup = users.find((u, i) => users.indexOf(u) !== i);
  if (dup !== undefined) problems.push(`user ${dup} is named twice (a viewer or the collector user equal to another user)`);
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `broker-config: ${problems.length} problem(s)`, problems);
  return { acl: `${lines.join('\n')}\n`, users };
}

/** PBKDF2-SHA512 with 101 iterations and a 12-byte salt: mosquitto 2's `$7$` password hash. */
export function passwordLine(user: string, password: string, salt: Buffer = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(BROKER_CONFIG_SPEC, argv);
  if (parsed.help) {
    console.log(helpText(BROKER_CONFIG_SPEC));
    return 0;
  }
  const { values } = parsed;
  const files = stringsOption(values, 'inventory');
  if (files.length === 0) throw new UsageError('broker-config', 'give at least one --inventory <file>');
  const out = stringOption(values, 'out');
  if (out === undefined) throw new UsageError('broker-config', 'give --out <dir>');
  const identity = stringOption(values, 'identity') ?? 'password';
  if (identity !== 'password' && identity !== 'certificate') throw new UsageError('broker-config', `--identity: expected password or certificate, got ${JSON.stringify(identity)}`);
  const passwordDir = stringOption(values, 'password-dir');
  if (identity === 'password' && passwordDir === undefined) throw new UsageError('broker-config', '--identity password needs --password-dir <dir> (one file per user holding its password)');
  if (identity === 'certificate' && passwordDir !== undefined) throw new UsageError('broker-config', '--password-dir is for --identity password');

  const inventories = files.map((f) => loadYamlFile(SiteInventorySchema, resolve(f)));
  const clustersFile = stringOption(values, 'clusters');
  const clusters = clustersFile !== undefined ? loadYamlFile(ClustersFileSchema, resolve(clustersFile)).clusters.map((c) => c.id) : [];
  const { acl, users } = brokerAcl({
    inventories,
    clusters,
    collector_user: stringOption(values, 'collector-user') ?? 'collector',
    viewers: stringsOption(values, 'viewer'),
    legacy_topics: values['legacy-topics'] === true,
  });

  let passwd: string | undefined;
  if (passwordDir !== undefined) {
    const lines: string[] = [];
    const missing: string[] = [];
    for (const user of users) {
      try {
        const secret = readSecretFile(join(passwordDir, user), `password of ${user}`).toString('utf8').replace(/\r?\n$/, '');
        if (secret.length === 0) missing.push(`${join(passwordDir, user)}: empty`);
        else lines.push(passwordLine(user, secret));
      } catch (e) {
        if (!(e instanceof DcimError)) throw e;
        missing.push(e.message);
      }
    }
    if (missing.length > 0) throw new DcimError('DCIM_E_SECRET_MISSING', `broker-config: ${missing.length} password(s) missing`, missing);
    passwd = `${lines.join('\n')}\n`;
  }

  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'acl'), acl, { mode: 0o644 });
  if (passwd !== undefined) {
    const file = join(out, 'passwd');
    writeFileSync(file, passwd, { mode: 0o600 });
    // The mode given to writeFileSync applies only to a new file; an old one may be wider.
    chmodSync(file, 0o600);
  }
  console.log(`dcim broker-config: ${join(out, 'acl')} (${users.length} users: ${users.join(', ')})`);
  if (passwd !== undefined) console.log(`dcim broker-config: ${join(out, 'passwd')} (mode 0600; copy it beside the ACL, readable by mosquitto only)`);
  else console.log('dcim broker-config: no password file: clients present a certificate whose CN is their user name (use_identity_as_username true)');
  return 0;
}

export const command: Command = { spec: BROKER_CONFIG_SPEC, run };
