import { resolve } from 'node:path';
import { DcimError, DeviceSchema, ERROR_CODES, SystemClock, type Device, type DeviceProfile, type ErrorCode, type SecretRef } from '../../contract/index.js';
import { builtinProfileDir, loadProfiles } from '../../profiles/catalogue.js';
import { createLogger, type LogLevel } from '../../shared/log.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import { GENERIC_SNMP_PROFILE } from '../../agent/detect.js';
import { DEFAULT_MODBUS_POLICY } from '../../agent/device-reader.js';
import { modbusDetectReport, scanModbus, type ModbusDetectReport } from '../../agent/modbus/modbus-detect.js';
import { createModbusSerialTransport } from '../../agent/modbus/modbus-serial-transport.js';
import type { AgentDevice } from '../../agent/devices.js';
import { describeAddress, detectOnce, pollOnce, type ReaderFactory } from '../../agent/poll-once.js';
import { checkProfile } from '../../agent/profile-checks.js';
import { createDeviceReader } from '../../agent/reader-factory.js';
import { helpText, parseCommandArgs, type CommandSpec, type ParsedValues } from '../args.js';
import type { Command } from '../dcim.js';

/**
 * `dcim poll`: read one device once, outside any site, and print what the agent would publish
 * (README "Onboarding a new device with dcim poll"). Exit 0: the device answered; 1: a problem
 * with the flags, the profile or a secret (every one listed); 3: the device gave no usable answer (silent, refused, or refused the credentials).
 */
const spec: CommandSpec = {
  name: 'poll',
  summary: 'poll one device once by profile and print its readings as JSON, or detect its profile',
  usage: 'dcim poll --profile <id> --host <addr> [--port N] [SNMP | Modbus | Redfish options]   dcim poll --profile <id> --url http://<addr>:<port>/metrics [Prometheus options]   dcim poll --detect --host <addr> [SNMP options | --unit-id N for Modbus]',
  options: {
    profile: { type: 'string', placeholder: 'id', description: 'profile to read the device with (profiles/devices/ or --profiles-dir)' },
    detect: { type: 'boolean', description: 'suggest a profile (instead of --profile): over SNMP from sysObjectID; over Modbus (with --unit-id, --transport or --port 502) from the SunSpec chain and Read Device Identification' },
    host: { type: 'string', placeholder: 'addr', description: 'device address (IP or host name); required' },
    port: { type: 'string', placeholder: 'N', description: 'device port (default: SNMP 161, Modbus 502, Redfish 443 or 80 for http)' },
    'profiles-dir': { type: 'string', placeholder: 'dir', description: 'also load profiles from this folder, e.g. a new model under test' },
    'snmp-version': { type: 'string', placeholder: '1|2c|3', description: 'SNMP version (default 2c; 3 when --v3-user is given)' },
    community: { type: 'string', placeholder: 'name', description: 'SNMP v1/v2c community (default public); a plain flag: not a secret on read-only lab gear, use SNMPv3 with keys from env or files otherwise' },
    'v3-user': { type: 'string', placeholder: 'name', description: 'SNMPv3 user name' },
    'auth-protocol': { type: 'string', placeholder: 'proto', description: 'SNMPv3 authentication: md5, sha, sha224, sha256, sha384, sha512' },
    'auth-key-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the SNMPv3 authentication key' },
    'auth-key-file': { type: 'string', placeholder: 'file', description: 'file holding the SNMPv3 authentication key' },
    'priv-protocol': { type: 'string', placeholder: 'proto', description: 'SNMPv3 privacy: des, aes, aes256b, aes256r' },
    'priv-key-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the SNMPv3 privacy key' },
    'priv-key-file': { type: 'string', placeholder: 'file', description: 'file holding the SNMPv3 privacy key' },
    context: { type: 'string', placeholder: 'name', description: 'SNMPv3 context name (a device behind a proxy agent)' },
    'unit-id': { type: 'string', placeholder: 'N', description: 'Modbus unit id, 0-255 (default 1)' },
    transport: { type: 'string', placeholder: 'tcp|rtu_over_tcp', description: 'Modbus framing: tcp, or rtu_over_tcp through a transparent serial gateway (default tcp)' },
    scheme: { type: 'string', placeholder: 'http|https', description: 'Redfish scheme (default https)' },
    username: { type: 'string', placeholder: 'name', description: 'Redfish user name' },
    'password-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the Redfish password' },
    'password-file': { type: 'string', placeholder: 'file', description: 'file holding the Redfish password' },
    'insecure-tls': { type: 'boolean', description: "Redfish over https: do not verify the BMC's certificate (self-signed lab BMCs only)" },
    protocol: { type: 'string', placeholder: 'name', description: 'snmp, modbus, redfish or prometheus: checked against the profile (the profile decides how the device is read)' },
    url: { type: 'string', placeholder: 'url', description: 'Prometheus exporter: the scrape URL, e.g. http://10.0.0.5:9400/metrics (instead of --host and --port)' },
    'bearer-token-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the Prometheus bearer token' },
    'bearer-token-file': { type: 'string', placeholder: 'file', description: 'file holding the Prometheus bearer token' },
    'timeout-ms': { type: 'string', placeholder: 'ms', description: 'per-request timeout (default: SNMP 2000, Modbus 1000)' },
    retries: { type: 'string', placeholder: 'N', description: 'retries per request, 0-5 (default 1)' },
  },
};

const SNMP_FLAGS = ['snmp-version', 'community', 'v3-user', 'auth-protocol', 'auth-key-env', 'auth-key-file', 'priv-protocol', 'priv-key-env', 'priv-key-file', 'context'] as const;
const MODBUS_FLAGS = ['unit-id', 'transport'] as const;
const REDFISH_FLAGS = ['scheme', 'username', 'password-env', 'password-file', 'insecure-tls'] as const;
const PROMETHEUS_FLAGS = ['url', 'bearer-token-env', 'bearer-token-file'] as const;
const FLAGS_OF = { snmp: SNMP_FLAGS, modbus: MODBUS_FLAGS, redfish: REDFISH_FLAGS, prometheus: PROMETHEUS_FLAGS } as const;
const PROTOCOL_NAME = { snmp: 'an SNMP', modbus: 'a Modbus', redfish: 'a Redfish', prometheus: 'a Prometheus' } as const;

/** The device id `dcim poll` gives the device it reads (it belongs to no site). */
export const POLL_DEVICE_ID = 'poll';

/** Device paths as the flags that set them, so a schema problem names the flag to fix. */
const FLAG_OF_PATH: Record<string, string> = {
  'address.host': '--host',
  'address.port': '--port',
  'address.version': '--snmp-version',
  'address.community': '--community',
  'address.user': '--v3-user',
  'address.auth_protocol': '--auth-protocol',
  'address.priv_protocol': '--priv-protocol',
  'address.context': '--context',
  'address.unit_id': '--unit-id',
  'address.transport': '--transport',
  'address.scheme': '--scheme',
  'address.username': '--username',
  'address.path': '--url',
  timeout_ms: '--timeout-ms',
  retries: '--retries',
};

interface Problem {
  code: ErrorCode;
  line: string;
}

export interface PollPlan {
  target: AgentDevice;
  profiles: Map<string, DeviceProfile>;
  detect: boolean;
  /** Detection over Modbus: the target's profile only carries the address. */
  detectModbus?: boolean;
}

/**
 * The device to read, from the flags: every problem at once (flags of another protocol, bad
 * numbers, unknown profile, missing secrets …). Secrets become `{env}`/`{file}` references,
 * resolved by the reader like the agent's; here only checked to exist. Throws one DcimError.
 */
export function planFromFlags(values: ParsedValues, env: NodeJS.ProcessEnv = process.env): PollPlan {
  const problems: Problem[] = [];
  const bad = (line: string, code: ErrorCode = 'DCIM_E_CONFIG_INVALID') => problems.push({ code, line });
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const int = (name: string): number | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw.trim())) {
      bad(`--${name}: expected an integer, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return Number(raw);
  };
  const secret = (envFlag: string, fileFlag: string): SecretRef | undefined => {
    const e = str(envFlag);
    const f = str(fileFlag);
    if (e !== undefined && f !== undefined) bad(`--${envFlag} and --${fileFlag}: give one of them`);
    if (e !== undefined) {
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(e)) return { env: e };
      bad(`--${envFlag}: ${JSON.stringify(e)} is not an environment variable name`);
      return undefined;
    }
    return f !== undefined ? { file: resolve(f) } : undefined;
  };

  let profiles = new Map<string, DeviceProfile>();
  const dir = str('profiles-dir');
  try {
    profiles = loadProfiles([builtinProfileDir(), ...(dir !== undefined ? [resolve(dir)] : [])]);
  } catch (e) {
    if (e instanceof DcimError) for (const d of e.details.length > 0 ? e.details : [e.message]) bad(d, e.code);
    else throw e;
  }

  const detect = values.detect === true;
  // A Modbus flag (or the Modbus port) says what to detect over; the profile then only carries the address.
  const detectModbus = detect && (MODBUS_FLAGS.some((f) => values[f] !== undefined) || str('port')?.trim() === '502');
  const modbusCarrier = [...profiles.values()].find((p) => p.protocol === 'modbus')?.id;
  const profileId = detect ? (detectModbus ? modbusCarrier : GENERIC_SNMP_PROFILE) : str('profile');
  if (detect && str('profile') !== undefined) bad('--detect suggests a profile: leave out --profile');
  if (!detect && profileId === undefined) bad('--profile <id> is required (or --detect to find one)');
  if (str('host') === undefined && str('url') === undefined) bad('--host <addr> is required (--url for a Prometheus exporter)');
  if (detect && str('url') !== undefined) bad('--detect works over SNMP and Modbus; a Prometheus exporter is read with --profile and --url');
  const profile = profileId !== undefined ? profiles.get(profileId) : undefined;
  if (profileId !== undefined && !profile && profiles.size > 0) bad(`--profile: no profile ${profileId} (known: ${[...profiles.keys()].sort().join(', ')})`, 'DCIM_E_PROFILE_UNKNOWN');
  if (profile) for (const p of checkProfile(profile)) bad(`profile ${profile.id}: ${p}`);

  const protocol = profile?.protocol;
  if (protocol) {
    for (const [other, flags] of Object.entries(FLAGS_OF)) {
      if (other === protocol) continue;
      const who = detectModbus ? 'detection over Modbus (--unit-id, --transport or --port 502)' : `profile ${profile.id}`;
      for (const f of flags) {
        // Both HTTP readers verify certificates the same way.
        if (f === 'insecure-tls' && protocol === 'prometheus') continue;
        if (values[f] !== undefined && values[f] !== false) bad(`--${f} is ${PROTOCOL_NAME[other as keyof typeof FLAGS_OF]} option; ${who} speaks ${protocol}`);
      }
    }
    const named = str('protocol');
    if (named !== undefined && named !== protocol) bad(`--protocol ${named}: profile ${profile.id} speaks ${protocol}`);
  }

  let address: Record<string, unknown> | undefined;
  const host = str('host');
  const port = int('port');
  if (protocol === 'snmp') {
    const user = str('v3-user');
    const version = str('snmp-version') ?? (user !== undefined ? '3' : '2c');
    const auth = secret('auth-key-env', 'auth-key-file');
    const priv = secret('priv-key-env', 'priv-key-file');
    if (version === '3') {
      if (user === undefined) bad('--v3-user is required for SNMP v3');
      if (str('community') !== undefined) bad('--community is for SNMP v1/v2c; v3 uses --v3-user and keys');
      if ((str('auth-protocol') === undefined) !== (auth === undefined)) bad('--auth-protocol and --auth-key-env/--auth-key-file go together');
      if ((str('priv-protocol') === undefined) !== (priv === undefined)) bad('--priv-protocol and --priv-key-env/--priv-key-file go together');
      if (priv !== undefined && auth === undefined) bad('SNMPv3 privacy needs authentication too (authPriv)');
    } else {
      for (const f of ['v3-user', 'auth-protocol', 'auth-key-env', 'auth-key-file', 'priv-protocol', 'priv-key-env', 'priv-key-file', 'context']) {
        if (values[f] !== undefined) bad(`--${f} is an SNMPv3 option; the version is ${version}`);
      }
    }
    address = {
      protocol: 'snmp',
      host,
      ...(port !== undefined ? { port } : {}),
      version,
      ...(str('community') !== undefined ? { community: str('community') } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(str('auth-protocol') !== undefined ? { auth_protocol: str('auth-protocol') } : {}),
      ...(auth !== undefined ? { auth_key: auth } : {}),
      ...(str('priv-protocol') !== undefined ? { priv_protocol: str('priv-protocol') } : {}),
      ...(priv !== undefined ? { priv_key: priv } : {}),
      ...(str('context') !== undefined ? { context: str('context') } : {}),
    };
  } else if (protocol === 'modbus') {
    const unit = int('unit-id');
    address = { protocol: 'modbus', host, ...(port !== undefined ? { port } : {}), ...(unit !== undefined ? { unit_id: unit } : {}), ...(str('transport') !== undefined ? { transport: str('transport') } : {}) };
  } else if (protocol === 'redfish') {
    const scheme = str('scheme') ?? 'https';
    const password = secret('password-env', 'password-file');
    if ((str('username') === undefined) !== (password === undefined)) bad('--username and --password-env/--password-file go together');
    if (values['insecure-tls'] === true && scheme !== 'https') bad('--insecure-tls is for --scheme https');
    address = {
      protocol: 'redfish',
      host,
      port: port ?? (scheme === 'http' ? 80 : 443),
      scheme,
      ...(str('username') !== undefined ? { username: str('username') } : {}),
      ...(password !== undefined ? { password } : {}),
      verify_tls: values['insecure-tls'] !== true,
    };
  } else if (protocol === 'prometheus') {
    address = prometheusAddress(values, str('url'), secret('bearer-token-env', 'bearer-token-file'), bad);
  }
  const timeout = int('timeout-ms');
  const retries = int('retries');

  let device: Device | undefined;
  if (address && profile) {
    const parsed = DeviceSchema.safeParse({ id: POLL_DEVICE_ID, profile: profile.id, address, ...(timeout !== undefined ? { timeout_ms: timeout } : {}), ...(retries !== undefined ? { retries } : {}) });
    if (parsed.success) device = parsed.data;
    else for (const i of parsed.error.issues) bad(`${FLAG_OF_PATH[i.path.join('.')] ?? i.path.join('.')}: ${i.message}`);
  }
  if (device) {
    for (const [field, ref] of secretRefs(device)) {
      try {
        resolveSecret(ref, `--${field}`, env);
      } catch (e) {
        bad((e as DcimError).message, 'DCIM_E_SECRET_MISSING');
      }
    }
  }
  if (problems.length > 0 || !device || !profile) {
    const codes = new Set(problems.map((p) => p.code));
    const code = codes.size === 1 ? (problems[0] as Problem).code : 'DCIM_E_CONFIG_INVALID';
    throw new DcimError(code, `dcim poll: ${problems.length} problem(s)`, problems.map((p) => p.line));
  }
  return { target: { device, profile }, profiles, detect, ...(detectModbus ? { detectModbus } : {}) };
}

/** The flag each secret came from, for messages that name it and never its value. */
function secretRefs(d: Device): [string, SecretRef][] {
  const a = d.address;
  const out: [string, SecretRef][] = [];
  const flag = (ref: SecretRef, envFlag: string, fileFlag: string) => (typeof ref === 'object' && 'env' in ref ? envFlag : fileFlag);
  if (a.protocol === 'snmp') {
    if (a.auth_key !== undefined) out.push([flag(a.auth_key, 'auth-key-env', 'auth-key-file'), a.auth_key]);
    if (a.priv_key !== undefined) out.push([flag(a.priv_key, 'priv-key-env', 'priv-key-file'), a.priv_key]);
  }
  if (a.protocol === 'redfish' && a.password !== undefined) out.push([flag(a.password, 'password-env', 'password-file'), a.password]);
  if (a.protocol === 'prometheus' && a.bearer_token !== undefined) out.push([flag(a.bearer_token, 'bearer-token-env', 'bearer-token-file'), a.bearer_token]);
  return out;
}

/** A Prometheus address from `--url`: host, port, scheme and path, every problem reported. */
function prometheusAddress(values: ParsedValues, url: string | undefined, token: SecretRef | undefined, bad: (line: string) => void): Record<string, unknown> | undefined {
  if (url === undefined) {
    bad('--url <http://addr:port/metrics> is required for a Prometheus exporter');
    return undefined;
  }
  if (values.host !== undefined || values.port !== undefined) bad('--host and --port are part of --url for a Prometheus exporter');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    bad(`--url: ${JSON.stringify(url)} is not a URL`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') bad(`--url: ${u.protocol} is not http or https`);
  if (u.username !== '' || u.password !== '') bad('--url: no credentials in the URL; give --bearer-token-env or --bearer-token-file');
  if (values['insecure-tls'] === true && u.protocol !== 'https:') bad('--insecure-tls is for an https --url');
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return {
    protocol: 'prometheus',
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port !== '' ? Number(u.port) : scheme === 'https' ? 443 : 80,
    scheme,
    path: `${u.pathname}${u.search}`,
    ...(token !== undefined ? { bearer_token: token } : {}),
    verify_tls: values['insecure-tls'] !== true,
  };
}

/** What to run next, with the suggested profile: the same flags, secrets by reference only. */
function nextCommand(values: ParsedValues, profile: string): string {
  const parts = ['dcim poll', `--profile ${profile}`];
  for (const f of ['host', 'port', 'unit-id', 'transport', 'snmp-version', 'v3-user', 'auth-protocol', 'auth-key-env', 'auth-key-file', 'priv-protocol', 'priv-key-env', 'priv-key-file', 'context', 'timeout-ms', 'retries', 'profiles-dir']) {
    const v = values[f];
    if (typeof v === 'string') parts.push(`--${f} ${/^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)}`);
  }
  if (typeof values.community === 'string') parts.push(values.community === 'public' ? '--community public' : '--community <community>');
  return parts.join(' ');
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `dcim poll: unexpected argument ${JSON.stringify(parsed.positionals[0])} (see dcim poll --help)`);
  const plan = planFromFlags(parsed.values);
  const clock = new SystemClock();
  const logger = createLogger({ level: (process.env.DCIM_LOG_LEVEL as LogLevel | undefined) ?? 'warn', base: { part: 'poll' } });
  // The agent's own factory (no shared SNMP socket or Modbus link: one device, one poll).
  const readers: ReaderFactory = (t) => createDeviceReader(t, { clock, logger, env: process.env });
  const where = describeAddress(plan.target);
  if (plan.detect && plan.detectModbus) {
    const a = plan.target.device.address;
    if (a.protocol !== 'modbus') throw new DcimError('DCIM_E_CLI_INTERNAL', 'dcim poll: Modbus detection without a Modbus address');
    const timeoutMs = plan.target.device.timeout_ms ?? DEFAULT_MODBUS_POLICY.timeoutMs;
    const transport = createModbusSerialTransport({ host: a.host, port: a.port, framing: a.transport, timeoutMs, logger });
    const ts = clock.now();
    let report: ModbusDetectReport;
    try {
      report = modbusDetectReport(where, ts, await scanModbus(transport, a.unit_id, timeoutMs, plan.profiles), plan.profiles);
    } finally {
      await transport.close();
    }
    console.log(JSON.stringify(report.suggestion ? { ...report, next: nextCommand(parsed.values, report.suggestion.profile) } : report, null, 2));
    if (!report.answered) {
      console.error(`dcim poll: ${where}: no usable answer: ${report.problem ?? ''}`);
      return 3;
    }
    if (report.problem) console.error(`dcim poll: ${report.problem}`);
    return 0;
  }
  if (plan.detect) {
    const report = await detectOnce(plan.target, readers, clock, plan.profiles);
    const out = report.suggestion ? { ...report, next: nextCommand(parsed.values, report.suggestion.profile) } : report;
    console.log(JSON.stringify(out, null, 2));
    if (!report.answered) {
      console.error(`dcim poll: ${where}: no usable answer${explain(report.errors)}`);
      return 3;
    }
    if (report.problem) console.error(`dcim poll: ${report.problem}`);
    return 0;
  }
  const report = await pollOnce(plan.target, readers, clock);
  console.log(JSON.stringify(report, null, 2));
  if (!report.answered) {
    console.error(`dcim poll: ${where}: no usable answer${explain(report.errors, report.status.code)}`);
    return 3;
  }
  return 0;
}

/** What to look at first when a device does not answer, by the reason (README "Troubleshooting"). */
const HINTS: Partial<Record<ErrorCode, string>> = {
  DCIM_E_SNMP_TIMEOUT: 'check host and port, then the community or the v3 user, protocols and keys: an SNMP agent stays silent on wrong credentials',
  DCIM_E_SNMP_ERROR: 'the agent refused the request; on SNMP v1 one unknown OID fails the whole request',
  DCIM_E_MODBUS_CONNECT: 'nothing accepts connections at host:port, or the device already serves its maximum of clients',
  DCIM_E_MODBUS_TIMEOUT: 'the connection opened but the unit did not answer: check --unit-id and, behind a serial gateway, --transport rtu_over_tcp',
  DCIM_E_MODBUS_EXCEPTION: 'the device refused the registers: is this the right profile for the model?',
  DCIM_E_SECRET_MISSING: 'a secret could not be read',
  DCIM_E_REDFISH_TIMEOUT: 'check host, port and --scheme: a BMC on https does not answer plain http',
  DCIM_E_REDFISH_HTTP: 'nothing accepts connections at host:port, or the BMC answered with an HTTP error; with https and a self-signed certificate, see --insecure-tls',
  DCIM_E_REDFISH_AUTH: 'the BMC refused --username and the password',
  DCIM_E_REDFISH_RESPONSE: 'the BMC answered, but not with what the profile expects: is this the right profile for the model?',
  DCIM_E_PROM_TIMEOUT: 'check the --url host and port: dcgm-exporter listens on 9400, npu-exporter on 8082 by default',
  DCIM_E_PROM_HTTP: 'nothing accepts connections at the --url, or the exporter answered with an HTTP error (is the path /metrics?)',
  DCIM_E_PROM_AUTH: 'the exporter (or the proxy before it) refused the bearer token',
  DCIM_E_PROM_RESPONSE: 'the endpoint answered, but not with the Prometheus text format: is the --url an exporter?',
  DCIM_E_NET_HOST_UNKNOWN: 'the name server does not know this --host: check its spelling, or give the IP address',
};

function explain(errors: Partial<Record<ErrorCode, unknown>>, code?: ErrorCode): string {
  const c = code ?? (Object.keys(errors)[0] as ErrorCode | undefined);
  if (!c) return '';
  const hint = HINTS[c] ?? ERROR_CODES[c];
  return `: ${c}: ${ERROR_CODES[c]} Hint: ${hint}.`;
}

export const command: Command = { spec, run };
