import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DcimError } from '../../../contract/index.js';
import { planFromFlags } from '../../../cli/commands/poll.js';
import { repoPath } from '../../support/repo-path.js';

/** `dcim poll` flags → the device it reads, and every problem at once. In-process, no device. */
const dir = mkdtempSync(join(tmpdir(), 'dcim-poll-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'auth.key');
writeFileSync(keyFile, 'k-from-file\n', { mode: 0o600 });

type Values = Record<string, string | boolean>;
const problems = (values: Values, env: NodeJS.ProcessEnv = {}): { code: string; details: readonly string[] } => {
  try {
    planFromFlags(values, env);
  } catch (e) {
    if (e instanceof DcimError) return { code: e.code, details: e.details };
    throw e;
  }
  throw new Error('expected the flags to be refused');
};

describe('dcim poll flags → device', () => {
  it.each<[string, Values, NodeJS.ProcessEnv, Record<string, unknown>]>([
    ['SNMP v2c with the defaults', { profile: 'apc-rpdu2', host: '10.0.0.9' }, {}, { protocol: 'snmp', host: '10.0.0.9', port: 161, version: '2c', community: 'public' }],
    ['SNMP v1 with a community', { profile: 'apc-rpdu2', host: 'h', port: '1161', 'snmp-version': '1', community: 'lab' }, {}, { version: '1', port: 1161, community: 'lab' }],
    [
      'SNMPv3 implied by the user, keys by reference',
      { profile: 'rfc1628-ups', host: 'h', 'v3-user': 'ops', 'auth-protocol': 'sha256', 'auth-key-env': 'UPS_AUTH', 'priv-protocol': 'aes', 'priv-key-file': keyFile, context: 'ups-1' },
      { UPS_AUTH: 'x' },
      { version: '3', user: 'ops', auth_protocol: 'sha256', auth_key: { env: 'UPS_AUTH' }, priv_protocol: 'aes', priv_key: { file: keyFile }, context: 'ups-1' },
    ],
    ['Modbus TCP defaults', { profile: 'eastron-sdm630', host: 'h' }, {}, { protocol: 'modbus', port: 502, unit_id: 1, transport: 'tcp' }],
    ['Modbus behind an RTU gateway', { profile: 'xy-md02-th', host: 'gw', 'unit-id': '7', transport: 'rtu_over_tcp', port: '4001' }, {}, { unit_id: 7, transport: 'rtu_over_tcp', port: 4001 }],
    ['Redfish over http on port 80', { profile: 'redfish-gpu-server', host: 'bmc', scheme: 'http', username: 'admin', 'password-env': 'BMC_PW' }, { BMC_PW: 'x' }, { protocol: 'redfish', scheme: 'http', port: 80, username: 'admin', password: { env: 'BMC_PW' }, verify_tls: true }],
    ['Redfish over https, self-signed', { profile: 'redfish-gpu-server', host: 'bmc', 'insecure-tls': true }, {}, { scheme: 'https', port: 443, verify_tls: false }],
    ['detect: the generic SNMP profile', { detect: true, host: 'h', community: 'c' }, {}, { protocol: 'snmp', community: 'c' }],
  ])('%s', (_, values, env, address) => {
    const plan = planFromFlags(values, env);
    expect(plan.target.device.address).toMatchObject(address);
    expect(plan.target.device.id).toBe('poll');
    expect(plan.detect).toBe(values.detect === true);
    expect(plan.target.profile.id).toBe(values.detect ? 'generic-snmp' : values.profile);
  });

  it('takes the timeout and retries onto the device', () => {
    const plan = planFromFlags({ profile: 'apc-rpdu2', host: 'h', 'timeout-ms': '250', retries: '0' });
    expect(plan.target.device).toMatchObject({ timeout_ms: 250, retries: 0 });
  });

  it.each<[string, Values, NodeJS.ProcessEnv, string, string[]]>([
    ['nothing given', {}, {}, 'DCIM_E_CONFIG_INVALID', ['--profile <id> is required (or --detect to find one)', '--host <addr> is required']],
    ['an unknown profile', { profile: 'apc-rpdu9', host: 'h' }, {}, 'DCIM_E_PROFILE_UNKNOWN', ['--profile: no profile apc-rpdu9 (known: abb-eq-b2x, acrel-adw300,']],
    [
      "another protocol's flags, bad numbers and ranges, all at once",
      { profile: 'eastron-sdm630', host: 'h', community: 'x', 'v3-user': 'u', scheme: 'http', port: 'abc', 'unit-id': '300', retries: '9', 'timeout-ms': '1.5' },
      {},
      'DCIM_E_CONFIG_INVALID',
      [
        '--community is an SNMP option; profile eastron-sdm630 speaks modbus',
        '--v3-user is an SNMP option; profile eastron-sdm630 speaks modbus',
        '--scheme is a Redfish option; profile eastron-sdm630 speaks modbus',
        '--port: expected an integer, got "abc"',
        '--timeout-ms: expected an integer, got "1.5"',
        '--unit-id: Too big: expected number to be <=255',
        '--retries: Too big: expected number to be <=5',
      ],
    ],
    [
      'SNMPv3 flags that do not go together',
      { profile: 'rfc1628-ups', host: 'h', 'snmp-version': '3', community: 'c', 'auth-key-env': 'A', 'auth-key-file': keyFile, 'priv-protocol': 'aes' },
      { A: 'x' },
      'DCIM_E_CONFIG_INVALID',
      [
        '--auth-key-env and --auth-key-file: give one of them',
        '--v3-user is required for SNMP v3',
        '--community is for SNMP v1/v2c; v3 uses --v3-user and keys',
        '--auth-protocol and --auth-key-env/--auth-key-file go together',
        '--priv-protocol and --priv-key-env/--priv-key-file go together',
      ],
    ],
    ['v3 flags on a v2c poll', { profile: 'apc-rpdu2', host: 'h', 'snmp-version': '2c', context: 'x', 'auth-protocol': 'sha' }, {}, 'DCIM_E_CONFIG_INVALID', ['--auth-protocol is an SNMPv3 option; the version is 2c', '--context is an SNMPv3 option; the version is 2c']],
    ['an unknown SNMP version and auth protocol', { profile: 'apc-rpdu2', host: 'h', 'snmp-version': '4' }, {}, 'DCIM_E_CONFIG_INVALID', ['--snmp-version: Invalid option: expected one of']],
    ['a missing secret, named by its flag, never by value', { profile: 'rfc1628-ups', host: 'h', 'v3-user': 'u', 'auth-protocol': 'sha', 'auth-key-env': 'NOT_SET', 'priv-protocol': 'aes', 'priv-key-file': join(dir, 'missing.key') }, {}, 'DCIM_E_SECRET_MISSING', ['--auth-key-env: environment variable NOT_SET is not set', `--priv-key-file: cannot read secret file ${join(dir, 'missing.key')}`]],
    ['a Redfish user without a password', { profile: 'redfish-gpu-server', host: 'h', username: 'admin', scheme: 'http', 'insecure-tls': true }, {}, 'DCIM_E_CONFIG_INVALID', ['--username and --password-env/--password-file go together', '--insecure-tls is for --scheme https']],
    ['an environment variable name that is not one', { profile: 'redfish-gpu-server', host: 'h', username: 'a', 'password-env': 'my password' }, {}, 'DCIM_E_CONFIG_INVALID', ['--password-env: "my password" is not an environment variable name', '--username and --password-env/--password-file go together']],
    ['--detect with a profile, or over Modbus with an SNMP flag', { detect: true, host: 'h', profile: 'apc-rpdu2', 'unit-id': '2', community: 'c' }, {}, 'DCIM_E_CONFIG_INVALID', ['--detect suggests a profile: leave out --profile', '--community is an SNMP option; detection over Modbus (--unit-id, --transport or --port 502) speaks modbus']],
  ])('refuses %s, listing every problem', (_, values, env, code, lines) => {
    const p = problems(values, env);
    expect(p.code).toBe(code);
    for (const line of lines) expect(p.details.some((d) => d.startsWith(line)), `missing: ${line}\ngot:\n${p.details.join('\n')}`).toBe(true);
    expect(p.details).toHaveLength(lines.length);
  });

  it('reads a profile under test from --profiles-dir, and lists its problems when it is broken', () => {
    const good = mkdtempSync(join(dir, 'profiles-'));
    writeFileSync(
      join(good, 'acme-pdu.yaml'),
      'id: acme-pdu\nclass: pdu\nvendor: Acme\nmodel: P1\nprotocol: snmp\nmatch: { sys_object_id: [1.3.6.1.4.1.99999.1] }\npoints:\n  - { name: active_power_w, oid: 1.3.6.1.4.1.99999.1.1.0, type: gauge, unit: W }\ntest_vectors:\n  - { point: active_power_w, raw: 5, expected: 5 }\n',
    );
    expect(planFromFlags({ profile: 'acme-pdu', host: 'h', 'profiles-dir': good }).target.profile.vendor).toBe('Acme');
    const broken = mkdtempSync(join(dir, 'profiles-'));
    writeFileSync(join(broken, 'bad.yaml'), 'id: Bad\nclass: toaster\nprotocol: snmp\n');
    const p = problems({ profile: 'bad', host: 'h', 'profiles-dir': broken });
    expect(p.details.some((d) => d.startsWith(`${join(broken, 'bad.yaml')}: id:`))).toBe(true);
    expect(p.details.some((d) => d.startsWith(`${join(broken, 'bad.yaml')}: class:`))).toBe(true);
  });
});

describe('agent/README.md "Onboarding a new device with dcim poll"', () => {
  it('lists every flag of dcim poll', async () => {
    const { readFileSync } = await import('node:fs');
    const { command } = await import('../../../cli/commands/poll.js');
    const readme = readFileSync(repoPath('agent', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Onboarding a new device with dcim poll'), readme.indexOf('## Troubleshooting'));
    for (const flag of Object.keys(command.spec.options)) expect(section, `--${flag}`).toMatch(new RegExp(`^\\|[^\\n]*\`--${flag}[ \`]`, 'm'));
  });
});
