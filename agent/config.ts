import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { requireTlsScheme } from '../shared/config/broker-url.js';
import { checkSegmentBytes, mqttConnectionShape, spoolShape, tlsDeprecationLines } from '../shared/config/connection-schemas.js';
import { DcimError, IdSchema, SiteInventorySchema, type Address, type DeviceProfile, type ErrorCode, type SecretRef, type SiteInventory } from '../contract/index.js';
import { builtinProfileDir, loadProfiles } from '../profiles/catalogue.js';
import { formatIssues, parseYamlText } from '../shared/config/load.js';
import { readSecretFile, resolveSecret } from '../shared/config/secrets.js';
import { DEFAULT_MODBUS_POLICY, DEFAULT_PROMETHEUS_POLICY, DEFAULT_REDFISH_POLICY, DEFAULT_SNMP_POLICY, type RequestPolicy } from './device-reader.js';
import { selectDevices } from './devices.js';
import { DEFAULT_BACKOFF_MAX_MS, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_JITTER_MS } from './scheduler.js';
import { listenHostProblem, parseListenAddress, type ListenAddress } from './metrics/listen-address.js';
import { snmpV3Findings } from './snmp/snmp-v3-security.js';
import type { FsyncPolicy } from '../shared/spool/spool.js';

const MIB = 1024 * 1024;

/**
 * The telemetry spool (docs/design.md §2); README "The spool" explains each knob. The shared
 * spool keys with the agent's defaults, plus the replay pace, which only a publisher has.
 */
export const SpoolConfigSchema = z
  .object({
    dir: z.string().min(1).optional(),
    ...spoolShape({ maxBytes: 512 * MIB, maxAgeH: 72 }),
    replay_rate_per_s: z.number().positive().max(1_000_000).default(200),
    max_in_flight: z.number().int().min(4).max(65_000).default(32),
  })
  .strict()
  .superRefine(checkSegmentBytes)
  .prefault({});
export type SpoolConfig = z.infer<typeof SpoolConfigSchema>;

/** The Prometheus /metrics endpoint (README "Metrics"); absent: no endpoint. */
export const MetricsConfigSchema = z
  .object({
    listen: z.string().transform((text, ctx) => {
      const r = parseListenAddress(text);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    }),
  })
  .strict();

/** The `health` map in the retained agent state (README "Metrics"), republished this often. */
export const HealthConfigSchema = z
  .object({ interval_s: z.number().min(5).max(3600).default(60) })
  .strict()
  .prefault({});

/** One protocol's request policy; a device's own `timeout_ms` / `retries` in the seed win. */
const RequestPolicySchema = (timeoutMs: number, retries: number) =>
  z
    .object({
      timeout_ms: z.number().int().min(50).max(60_000).default(timeoutMs),
      retries: z.number().int().min(0).max(5).default(retries),
    })
    .strict()
    .prefault({});

/** How devices are polled (README "How it reads"); every key has a default. */
export const PollingConfigSchema = z
  .object({
    /** Polls in flight at once, all devices together; probes of dead devices get a quarter. */
    max_concurrent: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_CONCURRENT),
    /** Largest per-device offset from the aligned slot (also at most a tenth of the interval). */
    max_jitter_ms: z.number().int().min(0).max(60_000).default(DEFAULT_MAX_JITTER_MS),
    /** Longest wait between probes of a dead device. */
    backoff_max_s: z.number().min(1).max(86_400).default(DEFAULT_BACKOFF_MAX_MS / 1000),
    snmp: RequestPolicySchema(DEFAULT_SNMP_POLICY.timeoutMs, DEFAULT_SNMP_POLICY.retries),
    modbus: RequestPolicySchema(DEFAULT_MODBUS_POLICY.timeoutMs, DEFAULT_MODBUS_POLICY.retries),
    redfish: RequestPolicySchema(DEFAULT_REDFISH_POLICY.timeoutMs, DEFAULT_REDFISH_POLICY.retries),
    prometheus: RequestPolicySchema(DEFAULT_PROMETHEUS_POLICY.timeoutMs, DEFAULT_PROMETHEUS_POLICY.retries),
  })
  .strict()
  .prefault({});
export type PollingConfig = z.infer<typeof PollingConfigSchema>;

/** The polling section as the Agent takes it (spread into AgentOptions). */
export interface AgentPollingOptions {
  maxConcurrent: number;
  maxJitterMs: number;
  backoffMaxMs: number;
  snmp: RequestPolicy;
  modbus: RequestPolicy;
  redfish: RequestPolicy;
  prometheus: RequestPolicy;
}

export function pollingOptions(c: PollingConfig): AgentPollingOptions {
  const policy = (p: { timeout_ms: number; retries: number }): RequestPolicy => ({ timeoutMs: p.timeout_ms, retries: p.retries });
  return {
    maxConcurrent: c.max_concurrent,
    maxJitterMs: c.max_jitter_ms,
    backoffMaxMs: Math.round(c.backoff_max_s * 1000),
    snmp: policy(c.snmp),
    modbus: policy(c.modbus),
    redfish: policy(c.redfish),
    prometheus: policy(c.prometheus),
  };
}

/**
 * The agent's YAML config. Relative paths are relative to the config file.
 *
 *   agent:
 *     id: edge1
 *     site_seed: ../seeds/demo.yaml     # the site inventory (docs/design.md §4)
 *     devices: [pdu-r01-a]              # optional: default every device of the site
 *   mqtt:
 *     url: mqtts://broker.example:8883
 *     username: agent-edge1
 *     password: { env: DCIM_MQTT_PASSWORD }
 *     client_id: dcim-agent-demo-edge1  # optional: default dcim-agent-<site>-<agent>
 *     tls: { ca_file: certs/ca.pem, cert_file: certs/edge1.pem, key_file: certs/edge1.key, reject_unauthorized: true }
 *                                       # the old ca / cert / key are still read, with a warning
 *   state_dir: /var/lib/dcim-agent      # seq and bd_seq counters
 *   profiles_dirs: [site-profiles]      # optional: searched after the built-in profiles
 *   spool:                              # optional, every key has a default (README "The spool")
 *     dir: /var/lib/dcim-agent/spool    # default <state_dir>/spool
 *     max_bytes: 536870912              # 512 MiB on disk; whole oldest segments are dropped beyond it
 *     max_age_h: 72                     # older records are dropped, oldest first
 *     replay_rate_per_s: 200            # backlog pace after an outage; live data is not paced
 *     max_in_flight: 32                 # messages awaiting PUBACK at once
 *     fsync: interval                   # interval | always | never
 *     fsync_interval_ms: 200            # group commit period
 *     segment_bytes: 16777216           # default max_bytes / 8, at most 16 MiB
 *   metrics:                            # optional: Prometheus /metrics; absent = no endpoint
 *     listen: 127.0.0.1:9464            # host:port; 0.0.0.0:9464 or [::]:9464 for every interface
 *   health:                             # optional: the health map in the retained agent state
 *     interval_s: 60                    # republished this often (5-3600)
 *   polling:                            # optional, every key has a default (README "How it reads")
 *     max_concurrent: 64                # polls in flight at once, all devices together
 *     max_jitter_ms: 250                # per-device offset from the aligned slot
 *     backoff_max_s: 300                # longest wait between probes of a dead device
 *     snmp: { timeout_ms: 2000, retries: 1 }     # per request; a device's timeout_ms/retries win
 *     modbus: { timeout_ms: 1000, retries: 1 }
 *     redfish: { timeout_ms: 5000, retries: 1 }
 *     prometheus: { timeout_ms: 3000, retries: 1 }
 */
export const AgentConfigSchema = z
  .object({
    agent: z
      .object({
        id: IdSchema,
        site_seed: z.string().min(1),
        devices: z.array(IdSchema).min(1).optional(),
      })
      .strict(),
    mqtt: z.object(mqttConnectionShape).strict().superRefine(requireTlsScheme),
    state_dir: z.string().min(1),
    profiles_dirs: z.array(z.string().min(1)).default([]),
    spool: SpoolConfigSchema,
    metrics: MetricsConfigSchema.optional(),
    health: HealthConfigSchema,
    polling: PollingConfigSchema,
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/** The spool as the Agent takes it: config units turned into ms, the directory resolved. */
export interface AgentSpoolOptions {
  /** Default `<stateDir>/spool`. */
  dir?: string;
  maxBytes: number;
  maxAgeMs: number;
  replayRatePerS: number;
  maxInFlight: number;
  fsync: FsyncPolicy;
  segmentBytes?: number;
}

export function spoolOptions(c: SpoolConfig, base: string): AgentSpoolOptions {
  return {
    ...(c.dir !== undefined ? { dir: resolve(base, c.dir) } : {}),
    maxBytes: c.max_bytes,
    maxAgeMs: c.max_age_h * 3_600_000,
    replayRatePerS: c.replay_rate_per_s,
    maxInFlight: c.max_in_flight,
    fsync: { mode: c.fsync, intervalMs: c.fsync_interval_ms },
    ...(c.segment_bytes !== undefined ? { segmentBytes: c.segment_bytes } : {}),
  };
}

export interface AgentMqttOptions {
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
}

/** Everything `new Agent(…)` needs besides clock and logger. */
export interface LoadedAgentConfig {
  file: string;
  id: string;
  siteSeedFile: string;
  inventory: SiteInventory;
  profiles: Map<string, DeviceProfile>;
  mqtt: AgentMqttOptions;
  stateDir: string;
  spool: AgentSpoolOptions;
  /** Where to serve /metrics; undefined: no endpoint. */
  metrics?: ListenAddress;
  health: { intervalMs: number };
  /** Concurrency, jitter, back-off and request policies: spread into AgentOptions. */
  polling: AgentPollingOptions;
  deviceIds?: string[];
  /** Settings that work but are weak (SNMPv3 MD5, DES, no privacy to a public address) or deprecated (old TLS keys): `--check` lists them, the start logs them. */
  warnings: { code: ErrorCode; line: string }[];
}

interface Problem {
  code: ErrorCode;
  line: string;
}

/**
 * Load and check the agent config, its site seed and the profiles; resolve secrets and TLS
 * files. Every problem in every file is reported at once, each with file and path; the error
 * code is the shared code of all problems, else DCIM_E_CONFIG_INVALID.
 */
export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedAgentConfig {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const fail = (): never => {
    const codes = new Set(problems.map((p) => p.code));
    const code = codes.size === 1 ? (problems[0] as Problem).code : 'DCIM_E_CONFIG_INVALID';
    throw new DcimError(code, `${file}: ${problems.length} problem(s)`, problems.map((p) => p.line));
  };
  const collect = (e: unknown, fallback: ErrorCode) => {
    if (e instanceof DcimError) {
      if (e.details.length > 0) problems.push(...e.details.map((line) => ({ code: e.code, line })));
      else problems.push({ code: e.code, line: e.message });
    } else problems.push({ code: fallback, line: `${file}: ${(e as Error).message}` });
  };

  const configFile = resolve(file);
  const base = dirname(configFile);
  let parsed: ReturnType<typeof AgentConfigSchema.safeParse>;
  try {
    parsed = AgentConfigSchema.safeParse(parseYamlText(readText(configFile), file));
  } catch (e) {
    collect(e, 'DCIM_E_CONFIG_UNREADABLE');
    return fail();
  }
  // Outside the try: fail() throws, and a catch around it would list every problem twice.
  if (!parsed.success) {
    problems.push(...formatIssues(file, parsed.error).map((line) => ({ code: 'DCIM_E_CONFIG_INVALID' as const, line })));
    return fail();
  }
  const config: AgentConfig = parsed.data;

  const seedFile = resolve(base, config.agent.site_seed);
  let inventory: SiteInventory | undefined;
  try {
    const raw = parseYamlText(readText(seedFile), config.agent.site_seed);
    const parsed = SiteInventorySchema.safeParse(raw);
    if (parsed.success) inventory = absoluteSecretFiles(parsed.data, dirname(seedFile));
    else problems.push(...formatIssues(config.agent.site_seed, parsed.error).map((line) => ({ code: 'DCIM_E_CONFIG_INVALID' as const, line })));
  } catch (e) {
    collect(e, 'DCIM_E_CONFIG_UNREADABLE');
  }

  let profiles: Map<string, DeviceProfile> | undefined;
  try {
    // Only the profiles the site's devices name: the whole catalogue, validated and kept, would
    // cost the agent ~13 MB of heap at start for profiles it never polls. A seed that failed to
    // load leaves every profile to be checked, so its problems are all reported at once.
    const only = inventory ? new Set(inventory.devices.map((d) => d.profile)) : undefined;
    profiles = loadProfiles([builtinProfileDir(), ...config.profiles_dirs.map((d) => resolve(base, d))], { only });
  } catch (e) {
    collect(e, 'DCIM_E_CONFIG_INVALID');
  }

  if (inventory && profiles) {
    const sel = selectDevices(inventory, profiles, config.agent.devices, config.agent.id);
    for (const p of sel.problems) {
      const where = p.where === 'config' ? file : p.where === 'seed' ? config.agent.site_seed : `profile ${String(p.path[0])}`;
      const path = p.where === 'profile' ? '' : `${fmtPath(p.path)}: `;
      problems.push({ code: p.code, line: `${where}: ${path}${p.message}` });
    }
    for (const { device } of sel.devices) {
      const i = inventory.devices.indexOf(device);
      const resolved: Record<string, string> = {};
      for (const [field, ref] of secretRefs(device.address)) {
        try {
          resolved[field] = resolveSecret(ref, `${config.agent.site_seed}: devices[${i}].address.${field}`, env);
        } catch (e) {
          collect(e, 'DCIM_E_SECRET_MISSING');
        }
      }
      // SNMPv3: refused below the level its settings state or imply; weak settings reported.
      if (device.address.protocol === 'snmp') {
        for (const f of snmpV3Findings(device.address, resolved).findings) {
          const line = `${config.agent.site_seed}: devices[${i}].address.${f.field}: ${f.message}`;
          if (f.code === 'DCIM_E_SNMP_V3_LEVEL') problems.push({ code: f.code, line });
          else warnings.push({ code: f.code, line });
        }
      }
    }
  }

  if (config.metrics) {
    const problem = listenHostProblem(config.metrics.listen, localAddresses());
    if (problem) problems.push({ code: 'DCIM_E_CONFIG_INVALID', line: `${file}: metrics.listen: ${problem}` });
  }

  let password: string | undefined;
  if (config.mqtt.password !== undefined) {
    try {
      password = resolveSecret(absoluteRef(config.mqtt.password, base), `${file}: mqtt.password`, env);
    } catch (e) {
      collect(e, 'DCIM_E_SECRET_MISSING');
    }
  }
  let tls: AgentMqttOptions['tls'];
  if (config.mqtt.tls) {
    tls = { rejectUnauthorized: config.mqtt.tls.reject_unauthorized };
    for (const line of tlsDeprecationLines(file, 'mqtt.tls', config.mqtt.tls)) warnings.push({ code: 'DCIM_E_CONFIG_DEPRECATED', line });
    for (const [k, setting] of [['ca', 'ca_file'], ['cert', 'cert_file'], ['key', 'key_file']] as const) {
      const p = config.mqtt.tls[setting];
      if (p === undefined) continue;
      // A problem names the key as the file spells it.
      const written = config.mqtt.tls.deprecated_keys?.includes(k) ? k : setting;
      try {
        // The private key is a secret: held to the secret-file rule (owner only).
        tls[k] = k === 'key' ? readSecretFile(resolve(base, p), `${file}: mqtt.tls.${written}`, env) : readFileSync(resolve(base, p));
      } catch (e) {
        if (e instanceof DcimError) collect(e, e.code);
        else problems.push({ code: 'DCIM_E_CONFIG_UNREADABLE', line: `${file}: mqtt.tls.${written}: cannot read ${p}: ${(e as Error).message}` });
      }
    }
  }

  // dcim broker-config grants an agent's topics to the user <site>.<agent>: another name works only
  // with an ACL written by hand, so say so rather than let the broker refuse every publish later.
  const expectedUser = inventory ? `${inventory.site.id}.${config.agent.id}` : undefined;
  if (expectedUser !== undefined && config.mqtt.username !== undefined && config.mqtt.username !== expectedUser) {
    warnings.push({ code: 'DCIM_E_MQTT_USER_UNEXPECTED', line: `${file}: mqtt.username: ${config.mqtt.username} is not ${expectedUser}, the user dcim broker-config grants this agent's topics (fine only with an ACL of your own)` });
  }

  if (problems.length > 0 || !inventory || !profiles) return fail();
  return {
    file: configFile,
    id: config.agent.id,
    siteSeedFile: seedFile,
    inventory,
    profiles,
    mqtt: {
      url: config.mqtt.url,
      ...(config.mqtt.username !== undefined ? { username: config.mqtt.username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(config.mqtt.client_id !== undefined ? { clientId: config.mqtt.client_id } : {}),
      ...(tls ? { tls } : {}),
    },
    stateDir: resolve(base, config.state_dir),
    spool: spoolOptions(config.spool, base),
    ...(config.metrics ? { metrics: config.metrics.listen } : {}),
    health: { intervalMs: config.health.interval_s * 1000 },
    polling: pollingOptions(config.polling),
    ...(config.agent.devices ? { deviceIds: config.agent.devices } : {}),
    warnings,
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

function fmtPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function absoluteRef(ref: SecretRef, base: string): SecretRef {
  return typeof ref === 'object' && 'file' in ref && !isAbsolute(ref.file) ? { file: resolve(base, ref.file) } : ref;
}

/** The secrets of an address, by field name: what the loader checks and never prints. */
function secretRefs(a: Address): [string, SecretRef][] {
  if (a.protocol === 'snmp') {
    const refs: [string, SecretRef | undefined][] = [['community', a.community], ['auth_key', a.auth_key], ['priv_key', a.priv_key]];
    return refs.filter((r): r is [string, SecretRef] => r[1] !== undefined);
  }
  if (a.protocol === 'redfish' && a.password !== undefined) return [['password', a.password]];
  if (a.protocol === 'prometheus' && a.bearer_token !== undefined) return [['bearer_token', a.bearer_token]];
  return [];
}

/** Secret files named in a seed are relative to the seed; the agent resolves them later. */
function absoluteSecretFiles(inv: SiteInventory, base: string): SiteInventory {
  return {
    ...inv,
    devices: inv.devices.map((d) => {
      const a = d.address;
      if (a.protocol === 'redfish' && a.password !== undefined) return { ...d, address: { ...a, password: absoluteRef(a.password, base) } };
      if (a.protocol === 'prometheus' && a.bearer_token !== undefined) return { ...d, address: { ...a, bearer_token: absoluteRef(a.bearer_token, base) } };
      if (a.protocol !== 'snmp') return d;
      return {
        ...d,
        address: {
          ...a,
          community: absoluteRef(a.community, base),
          ...(a.auth_key !== undefined ? { auth_key: absoluteRef(a.auth_key, base) } : {}),
          ...(a.priv_key !== undefined ? { priv_key: absoluteRef(a.priv_key, base) } : {}),
        },
      };
    }),
  };
}
