import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClustersFileSchema, DcimError, IdSchema, SiteInventorySchema, siteAgents, topics, type Cluster, type SiteInventory } from '../../contract/index.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { readSecretFile } from '../../shared/config/secrets.js';
import { UsageError, helpText, parseCommandArgs, stringOption, stringsOption, type CommandSpec, type ParsedValues } from '../args.js';
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
 *
 * Two more modes serve the bureau uplink (docs/federation-bridge.md): `--bureau` writes the bureau
 * broker's ACL and password file from the clusters file (one `bridge.<site>` user per site, allowed
 * to write that site's summaries only), and `--bridge` writes the bridge section a site broker
 * includes to carry its own summary topics, and nothing else, up to the bureau over TLS.
 */
export const BROKER_CONFIG_SPEC: CommandSpec = {
  name: 'broker-config',
  summary: "mosquitto's ACL and password file for per-agent identities, from the site inventories",
  usage: [
    'dcim broker-config --inventory seeds/site.yaml [--inventory …] [--clusters file] --out dir [--password-dir dir | --identity certificate]',
    '       dcim broker-config --bureau --clusters file --out dir [--password-dir dir | --identity certificate] [--bureau-user name] [--viewer name]',
    '       dcim broker-config --bridge --site id --bureau-address host:port [--bureau-address …] --bureau-ca file --out dir (--remote-password-file file | --bridge-cert file --bridge-key file)',
  ].join('\n'),
  options: {
    inventory: { type: 'string', multiple: true, placeholder: 'file', description: 'a site inventory (repeat for several sites on one broker); every device must name its owning agent (site.agent or devices[].agent)' },
    clusters: { type: 'string', placeholder: 'file', description: "the collector's clusters file: the collector may also publish each cluster's KPI topic (the site.cluster names count without it)" },
    out: { type: 'string', placeholder: 'dir', description: 'write `acl` and (with passwords) `passwd` into this folder' },
    identity: { type: 'string', placeholder: 'password|certificate', description: 'how clients prove who they are: a password file, or a client certificate whose CN is the user name (mosquitto use_identity_as_username)', default: 'password' },
    'password-dir': { type: 'string', placeholder: 'dir', description: 'with --identity password: one file per user, named after it (collector, <site>.<agent>), holding its password (the file the agent or collector config names in mqtt.password)' },
    'collector-user': { type: 'string', placeholder: 'name', description: "the collector's broker user", default: 'collector' },
    viewer: { type: 'string', multiple: true, placeholder: 'name', description: 'a user who may read the KPI and alert topics (a dashboard, an on-call bridge); repeat for more' },
    'legacy-topics': { type: 'boolean', description: 'also grant the old device topics without the agent (dcim/v1/<site>/devices/<device>/…), owner only, while agents are upgraded' },
    bureau: { type: 'boolean', description: "write the bureau broker's ACL and password file from --clusters: one bridge.<site> user per site, allowed to write that site's summaries only" },
    'bureau-user': { type: 'string', placeholder: 'name', description: "with --bureau: the bureau collector's broker user, who reads every site's summaries", default: 'bureau' },
    bridge: { type: 'boolean', description: "write the site broker's bridge to the bureau (bureau-bridge.conf, mode 0600): only --site's summary topics go up, over TLS, queued while the link is down" },
    site: { type: 'string', placeholder: 'id', description: 'with --bridge: the site whose summaries the bridge carries (its user on the bureau broker is bridge.<site>)' },
    'bureau-address': { type: 'string', multiple: true, placeholder: 'host:port', description: "with --bridge: the bureau broker's TLS listener ([v6]:port for IPv6); repeat for fallbacks, tried in order" },
    'bureau-ca': { type: 'string', placeholder: 'file', description: "with --bridge: the CA certificate(s) that signed the bureau broker's certificate (its name or IP must match --bureau-address)" },
    'remote-password-file': { type: 'string', placeholder: 'file', description: "with --bridge: a file (mode 0600) holding the site's bridge password on the bureau broker (the bureau's --password-dir file bridge.<site>)" },
    'bridge-cert': { type: 'string', placeholder: 'file', description: 'with --bridge, instead of a password: the client certificate whose CN is bridge.<site> (bureau with use_identity_as_username)' },
    'bridge-key': { type: 'string', placeholder: 'file', description: "with --bridge-cert: the certificate's private key" },
    'retry-s': { type: 'string', placeholder: 'base:cap', description: 'with --bridge: seconds between reconnection attempts, growing from base to cap with jitter (mosquitto restart_timeout)', default: '5:60' },
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

/** One user's part of an acl_file: why it exists, then its `read|write|readwrite <filter>` grants. */
interface AclUser {
  why: string;
  user: string;
  grants: string[];
}

/**
 * The acl_file text and the users it names: the one writer for the site and the bureau broker.
 * Throws when `problems` is not empty or a user is named twice (the later block would silently
 * widen or narrow the earlier one's rights).
 */
function aclFile(header: readonly string[], blocks: readonly AclUser[], problems: string[] = []): { acl: string; users: string[] } {
  const users = blocks.map((b) => b.user);
  const dup = users.find((u, i) => users.indexOf(u) !== i);
  if (dup !== undefined) problems.push(`user ${dup} is named twice (a viewer or the collector user equal to another user)`);
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `broker-config: ${problems.length} problem(s)`, problems);
  const lines = [...header];
  for (const b of blocks) lines.push('', `# ${b.why}`, `user ${b.user}`, ...b.grants.map((g) => `topic ${g}`));
  return { acl: `${lines.join('\n')}\n`, users };
}

/** The site broker's ACL and the users it names; throws when a site has a device without an owner. */
export function brokerAcl(input: BrokerAclInput): { acl: string; users: string[] } {
  const collector = input.collector_user ?? 'collector';
  const problems: string[] = [];
  const sites = input.inventories.map((i) => i.site.id);
  const clusters = [...new Set([...(input.clusters ?? []), ...input.inventories.flatMap((i) => (i.site.cluster !== undefined ? [i.site.cluster] : []))])].filter((c) => !sites.includes(c));
  const collectorGrants: string[] = [];
  for (const site of sites) {
    collectorGrants.push(`read ${topics.filters.agentState(site)}`, `read ${topics.filters.telemetry(site)}`, `read ${topics.filters.deviceStatus(site)}`);
    if (input.legacy_topics) collectorGrants.push(`read ${topics.legacy.filters.telemetry(site)}`, `read ${topics.legacy.filters.deviceStatus(site)}`);
    // The site's summaries for the bureau: written by the collector alone, carried up by the broker's bridge.
    collectorGrants.push(`readwrite ${topics.kpi(site)}`, `readwrite ${topics.filters.alerts(site)}`, `readwrite ${topics.filters.summary(site)}`);
  }
  for (const cluster of clusters) collectorGrants.push(`readwrite ${topics.kpi(cluster)}`);
  const blocks: AclUser[] = [{ why: 'The collector reads what the agents publish and alone publishes KPIs, alerts and summaries.', user: collector, grants: collectorGrants }];

  for (const viewer of input.viewers ?? []) {
    blocks.push({ why: 'A viewer: KPIs and alerts, read only.', user: viewer, grants: [...[...sites, ...clusters].map((s) => `read ${topics.kpi(s)}`), ...sites.map((s) => `read ${topics.filters.alerts(s)}`)] });
  }

  for (const inv of input.inventories) {
    const site = inv.site.id;
    const owned = siteAgents(inv);
    const orphans = inv.devices.filter((d) => ![...owned.values()].some((ids) => ids.includes(d.id)));
    if (orphans.length > 0) problems.push(`site ${site}: ${orphans.length} device(s) name no owning agent (site.agent or devices[].agent), e.g. ${orphans[0]!.id}`);
    for (const [agent, devices] of owned) {
      const grants = [`write ${topics.agentState(site, agent)}`];
      for (const device of devices) {
        grants.push(`write ${topics.telemetry(site, agent, device)}`, `write ${topics.deviceStatus(site, agent, device)}`);
        if (input.legacy_topics) grants.push(`write ${topics.legacy.telemetry(site, device)}`, `write ${topics.legacy.deviceStatus(site, device)}`);
      }
      blocks.push({ why: `Agent ${agent} of site ${site}: its state and the ${devices.length} device(s) it owns.`, user: agentUser(site, agent), grants });
    }
  }
  const header = [
    '# mosquitto acl_file written by `dcim broker-config`; regenerate it when an inventory changes.',
    `# Sites: ${sites.join(', ')}. A user no line names may neither publish nor subscribe.`,
  ];
  return aclFile(header, blocks, problems);
}

/**
 * A site's user on the bureau broker. Ids hold no dot, so `bridge.<site>` is never a site, agent
 * or cluster id; the bridge also uses it as its MQTT client id there.
 */
export const bridgeUser = (site: string): string => `bridge.${site}`;

/**
 * Where a mosquitto bridge announces its link to the remote broker: retained `1` once connected,
 * `0` as its will when the link drops (mosquitto's own topic; mosquitto lets clients write under
 * `$SYS` only here).
 */
export const bridgeStateTopic = (site: string): string => `$SYS/broker/connection/${bridgeUser(site)}/state`;
const BRIDGE_STATE_FILTER = '$SYS/broker/connection/+/state';

export interface BureauAclInput {
  clusters: readonly Cluster[];
  bureau_user?: string;
  viewers?: readonly string[];
}

/**
 * The bureau broker's ACL: each site's bridge user may write that site's summary topics and its
 * own link state, and read nothing (a bridge whose topics all go `out` subscribes to nothing on
 * the bureau); the bureau collector and the viewers read every site's summaries and link states.
 */
export function bureauAcl(input: BureauAclInput): { acl: string; users: string[] } {
  const sites = [...new Set(input.clusters.flatMap((c) => c.sites))];
  const reads = [`read ${topics.filters.summary()}`, `read ${BRIDGE_STATE_FILTER}`];
  const blocks: AclUser[] = [
    { why: "The bureau collector reads every site's summaries and bridge link state.", user: input.bureau_user ?? 'bureau', grants: reads },
    ...(input.viewers ?? []).map((viewer) => ({ why: 'A viewer: summaries and link states, read only.', user: viewer, grants: reads })),
    ...sites.map((site) => ({
      why: `Site ${site}'s bridge (clusters ${input.clusters.filter((c) => c.sites.includes(site)).map((c) => c.id).join(', ')}): its own summaries and link state, nothing to read.`,
      user: bridgeUser(site),
      grants: [`write ${topics.filters.summary(site)}`, `write ${bridgeStateTopic(site)}`],
    })),
  ];
  const header = [
    '# mosquitto acl_file for the bureau broker, written by `dcim broker-config --bureau`; regenerate it when the clusters file changes.',
    `# Sites: ${sites.join(', ')}. A user no line names may neither publish nor subscribe.`,
  ];
  return aclFile(header, blocks);
}

/** PBKDF2-SHA512 with 101 iterations and a 12-byte salt: mosquitto 2's `$7$` password hash. */
export function passwordLine(user: string, password: string, salt: Buffer = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A password from a secret file: its trailing newline dropped; empty is refused. */
function readPassword(file: string, what: string): string {
  const secret = readSecretFile(file, what).toString('utf8').replace(/\r?\n$/, '');
  if (secret.length === 0) throw new DcimError('DCIM_E_SECRET_MISSING', `${file}: empty`);
  return secret;
}

/** The password file for `users`, each password read from `<dir>/<user>`; names every missing one. */
function passwordFile(users: readonly string[], dir: string): string {
  const lines: string[] = [];
  const missing: string[] = [];
  for (const user of users) {
    try {
      lines.push(passwordLine(user, readPassword(join(dir, user), `password of ${user}`)));
    } catch (e) {
      if (!(e instanceof DcimError)) throw e;
      missing.push(e.message);
    }
  }
  if (missing.length > 0) throw new DcimError('DCIM_E_SECRET_MISSING', `broker-config: ${missing.length} password(s) missing`, missing);
  return `${lines.join('\n')}\n`;
}

/** A file only its owner may read, also when an older copy was wider (writeFileSync's mode applies to new files only). */
function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export interface BridgeConfigInput {
  site: string;
  /** The bureau broker's TLS listeners, `host:port` as mosquitto reads them; the first is preferred. */
  addresses: readonly string[];
  ca_file: string;
  auth: { password: string } | { cert_file: string; key_file: string };
  retry_s: { base: number; cap: number };
}

/** The bridge name on the site broker; one bureau uplink per site broker. */
export const BRIDGE_CONNECTION = 'dcim-bureau';

/**
 * The site broker's bridge section. The queue it relies on is the site broker's: while the link
 * is down, the bridge's local session keeps up to max_queued_messages / max_queued_bytes (global
 * options of the site broker in mosquitto 2.0, not per bridge) and persistence keeps them over a
 * broker restart.
 */
export function bridgeConfig(input: BridgeConfigInput): string {
  const user = bridgeUser(input.site);
  const lines = [
    `# mosquitto bridge from site ${input.site}'s broker to the bureau broker, written by \`dcim broker-config --bridge\`.`,
    '# Include it in the site broker (conf.d); docs/federation-bridge.md explains each choice.',
    ...('password' in input.auth ? ['# It holds the bridge password: keep it mode 0600, owned by the user mosquitto runs as.'] : []),
    `connection ${BRIDGE_CONNECTION}`,
    `address ${input.addresses.join(' ')}`,
    'round_robin false',
    // MQTT 5 so the bureau answers a publish its ACL refuses with a reason code rather than a silent PUBACK.
    'bridge_protocol_version mqttv50',
    // Marks the connection as a bridge on an MQTT 3.1.1 fallback; mosquitto ignores it under MQTT 5.
    'try_private true',
    `remote_clientid ${user}`,
    `local_clientid ${user}.local`,
    ...('password' in input.auth ? [`remote_username ${user}`, `remote_password ${input.auth.password}`] : []),
    // A kept local session is the outage queue: summaries published while the link is down wait in it.
    'cleansession false',
    'local_cleansession false',
    'start_type automatic',
    `restart_timeout ${input.retry_s.base} ${input.retry_s.cap}`,
    'keepalive_interval 30',
    // Retained 1/0 on $SYS/broker/connection/<user>/state, here and at the bureau, the 0 as a will.
    'notifications true',
    'notifications_local_only false',
    // Every topic goes out: there is no bureau subscription to undo.
    'bridge_attempt_unsubscribe false',
    'bridge_outgoing_retain true',
    'bridge_max_packet_size 263168',
    `bridge_cafile ${input.ca_file}`,
    'bridge_insecure false',
    'bridge_tls_version tlsv1.2',
    ...('cert_file' in input.auth ? [`bridge_certfile ${input.auth.cert_file}`, `bridge_keyfile ${input.auth.key_file}`] : []),
    // Only this site's summaries leave the site; QoS 1 so each is acknowledged by the bureau before it leaves the queue.
    `topic ${topics.filters.summary(input.site)} out 1`,
  ];
  return `${lines.join('\n')}\n`;
}

/** mosquitto's address form of `host:port` or `[v6]:port`; a config value cannot hold whitespace or `#`. */
export function bridgeAddress(raw: string): string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) throw new UsageError('broker-config', `--bureau-address: expected host:port or [v6]:port, got ${JSON.stringify(raw)}`);
  return `${m[1] ?? m[2]}:${port}`;
}

/** A value mosquitto.conf can hold: it has no quoting, so a value ends at whitespace. */
function confValue(what: string, value: string): string {
  if (value.length === 0 || /\s/.test(value)) throw new DcimError('DCIM_E_CONFIG_INVALID', `broker-config: ${what} cannot be written to mosquitto.conf: it is empty or holds whitespace`);
  return value;
}

function identityOptions(values: ParsedValues): { identity: 'password' | 'certificate'; passwordDir: string | undefined } {
  const identity = stringOption(values, 'identity') ?? 'password';
  if (identity !== 'password' && identity !== 'certificate') throw new UsageError('broker-config', `--identity: expected password or certificate, got ${JSON.stringify(identity)}`);
  const passwordDir = stringOption(values, 'password-dir');
  if (identity === 'password' && passwordDir === undefined) throw new UsageError('broker-config', '--identity password needs --password-dir <dir> (one file per user holding its password)');
  if (identity === 'certificate' && passwordDir !== undefined) throw new UsageError('broker-config', '--password-dir is for --identity password');
  return { identity, passwordDir };
}

/** Writes `acl` (0644) and, with passwords, `passwd` (0600) into `out`, and says what it wrote. */
function writeBrokerFiles(out: string, acl: string, users: readonly string[], passwd: string | undefined): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'acl'), acl, { mode: 0o644 });
  if (passwd !== undefined) writePrivate(join(out, 'passwd'), passwd);
  console.log(`dcim broker-config: ${join(out, 'acl')} (${users.length} users: ${users.join(', ')})`);
  if (passwd !== undefined) console.log(`dcim broker-config: ${join(out, 'passwd')} (mode 0600; copy it beside the ACL, readable by mosquitto only)`);
  else console.log('dcim broker-config: no password file: clients present a certificate whose CN is their user name (use_identity_as_username true)');
}

/** The modes (site broker, --bureau, --bridge) each mode-specific flag belongs to. */
const ONLY_FOR: Record<string, readonly string[]> = {
  site: ['bridge'],
  'bureau-address': ['bridge'],
  'bureau-ca': ['bridge'],
  'remote-password-file': ['bridge'],
  'bridge-cert': ['bridge'],
  'bridge-key': ['bridge'],
  'retry-s': ['bridge'],
  'bureau-user': ['bureau'],
  clusters: ['site', 'bureau'],
  identity: ['site', 'bureau'],
  'password-dir': ['site', 'bureau'],
  viewer: ['site', 'bureau'],
  inventory: ['site'],
  'collector-user': ['site'],
  'legacy-topics': ['site'],
};

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(BROKER_CONFIG_SPEC, argv);
  if (parsed.help) {
    console.log(helpText(BROKER_CONFIG_SPEC));
    return 0;
  }
  const { values } = parsed;
  if (values.bureau === true && values.bridge === true) throw new UsageError('broker-config', 'give --bureau or --bridge, not both');
  const mode = values.bureau === true ? 'bureau' : values.bridge === true ? 'bridge' : 'site';
  for (const [flag, modes] of Object.entries(ONLY_FOR)) {
    // A flag meant for another mode would be ignored silently; a default is not the operator's.
    if (values[flag] !== undefined && values[flag] !== BROKER_CONFIG_SPEC.options[flag]?.default && !modes.includes(mode)) throw new UsageError('broker-config', `--${flag} is for ${modes.map((m) => (m === 'site' ? 'the site broker (without --bureau or --bridge)' : `--${m}`)).join(', ')}`);
  }
  const out = stringOption(values, 'out');
  if (out === undefined) throw new UsageError('broker-config', 'give --out <dir>');
  if (mode === 'bridge') return runBridge(values, out);

  const { passwordDir } = identityOptions(values);
  const clustersFile = stringOption(values, 'clusters');
  let written: { acl: string; users: string[] };
  if (mode === 'bureau') {
    if (clustersFile === undefined) throw new UsageError('broker-config', '--bureau needs --clusters <file> (the sites whose summaries the bureau takes)');
    written = bureauAcl({ clusters: loadYamlFile(ClustersFileSchema, resolve(clustersFile)).clusters, bureau_user: stringOption(values, 'bureau-user') ?? 'bureau', viewers: stringsOption(values, 'viewer') });
  } else {
    const files = stringsOption(values, 'inventory');
    if (files.length === 0) throw new UsageError('broker-config', 'give at least one --inventory <file>');
    const inventories = files.map((f) => loadYamlFile(SiteInventorySchema, resolve(f)));
    const clusters = clustersFile !== undefined ? loadYamlFile(ClustersFileSchema, resolve(clustersFile)).clusters.map((c) => c.id) : [];
    written = brokerAcl({
      inventories,
      clusters,
      collector_user: stringOption(values, 'collector-user') ?? 'collector',
      viewers: stringsOption(values, 'viewer'),
      legacy_topics: values['legacy-topics'] === true,
    });
  }
  const passwd = passwordDir !== undefined ? passwordFile(written.users, passwordDir) : undefined;
  writeBrokerFiles(out, written.acl, written.users, passwd);
  return 0;
}

function runBridge(values: ParsedValues, out: string): number {
  const site = stringOption(values, 'site');
  if (site === undefined) throw new UsageError('broker-config', '--bridge needs --site <id>');
  if (!IdSchema.safeParse(site).success) throw new UsageError('broker-config', `--site: expected an id of 1-64 characters [a-z0-9_-], got ${JSON.stringify(site)}`);
  const addresses = stringsOption(values, 'bureau-address').map(bridgeAddress);
  if (addresses.length === 0) throw new UsageError('broker-config', '--bridge needs --bureau-address <host:port>');
  const ca = stringOption(values, 'bureau-ca');
  if (ca === undefined) throw new UsageError('broker-config', '--bridge needs --bureau-ca <file>: the bridge always speaks TLS to the bureau');
  const passwordFileName = stringOption(values, 'remote-password-file');
  const cert = stringOption(values, 'bridge-cert');
  const key = stringOption(values, 'bridge-key');
  if ((passwordFileName === undefined) === (cert === undefined)) throw new UsageError('broker-config', '--bridge needs either --remote-password-file <file> or --bridge-cert <file> with --bridge-key <file>');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('broker-config', '--bridge-cert and --bridge-key go together');
  const retry = /^(\d{1,5}):(\d{1,5})$/.exec(stringOption(values, 'retry-s') ?? '5:60');
  const base = Number(retry?.[1]);
  const cap = Number(retry?.[2]);
  if (!retry || base < 1 || cap < base) throw new UsageError('broker-config', `--retry-s: expected base:cap in seconds, 1 <= base <= cap, got ${JSON.stringify(values['retry-s'])}`);

  const auth =
    passwordFileName !== undefined
      ? { password: confValue(`the password in ${passwordFileName}`, readPassword(passwordFileName, `bridge password of site ${site}`)) }
      : { cert_file: confValue('--bridge-cert', resolve(cert!)), key_file: confValue('--bridge-key', resolve(key!)) };
  const text = bridgeConfig({ site, addresses, ca_file: confValue('--bureau-ca', resolve(ca)), auth, retry_s: { base, cap } });
  mkdirSync(out, { recursive: true });
  const file = join(out, 'bureau-bridge.conf');
  writePrivate(file, text);
  console.log(`dcim broker-config: ${file} (mode 0600; bridge ${bridgeUser(site)} to ${addresses.join(', ')}, topic ${topics.filters.summary(site)} out)`);
  return 0;
}

export const command: Command = { spec: BROKER_CONFIG_SPEC, run };
