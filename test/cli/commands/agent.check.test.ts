import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../cli/embedded-broker.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import { inProcessDcim, spawnDcim } from '../support/run-dcim.js';

/**
 * `dcim agent --check` lists every problem of a config at once and polls
 * nothing; a real agent run with secrets from env and files never prints a secret.
 */
const dcim = inProcessDcim;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-agent-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text, { mode: 0o600 }); // secret files must be owner-only
  return f;
};

const seed = (devices: string) => `
site: { id: demo, name: Demo }
halls: [{ id: h1 }]
racks: [{ id: r01, hall: h1, rated_kw: 12 }]
devices:
${devices}`;

describe('dcim agent --check', () => {
  it('passes a good config and says what it checked', async () => {
    const s = write('good-seed.yaml', seed(`  - { id: pdu-1, profile: apc-rpdu2, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161, community: { env: PDU_COMMUNITY } } }`));
    const c = write('good.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstate_dir: state\nmetrics: { listen: "127.0.0.1:9464" }\nhealth: { interval_s: 30 }\n`);
    const r = await dcim(['agent', '--check', '-c', c], { PDU_COMMUNITY: 'x' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${c}: ok (agent edge1, site demo, 1 devices,`);
    expect(r.stdout).toContain('metrics on 127.0.0.1:9464, health every 30 s)');
  });

  it('prints a deprecation warning for the old mqtt.tls key, naming the file and the new key', async () => {
    const s = write('tls-dep-seed.yaml', seed(`  - { id: pdu-1, profile: apc-rpdu2, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161, community: public } }`));
    write('dep-ca.pem', 'CA');
    const cfg = (tls: string) => write('tls-dep.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: ${tls} }\nstate_dir: state\n`);
    const old = await dcim(['agent', '--check', '-c', cfg('{ ca: dep-ca.pem }')]);
    expect(old.code).toBe(0);
    expect(old.stderr).toBe(`warning: DCIM_E_CONFIG_DEPRECATED: ${join(dir, 'tls-dep.yaml')}: mqtt.tls.ca is deprecated: write mqtt.tls.ca_file (same value)\n`);
    expect(await dcim(['agent', '--check', '-c', cfg('{ ca_file: dep-ca.pem }')])).toMatchObject({ code: 0, stderr: '' });
    // The start logs it once, as a deprecation (no broker: the agent spools and stops on time).
    const run = write('tls-dep-run.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: dep-ca.pem } }\nstate_dir: ${join(dir, 'dep-state')}\n`);
    const r = await spawnDcim(['agent', '-c', run, '--duration-s', '1'], {});
    const logged = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'DCIM_E_CONFIG_DEPRECATED');
    expect(logged).toEqual([expect.objectContaining({ msg: 'deprecated setting', setting: `${run}: mqtt.tls.ca is deprecated: write mqtt.tls.ca_file (same value)` })]);
  }, 30_000);

  it('warns when mqtt.username is not <site>.<agent>, the user dcim broker-config grants the agent', async () => {
    const s = write('user-seed.yaml', seed(`  - { id: pdu-1, profile: apc-rpdu2, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161, community: public } }`));
    const cfg = (user: string) => write(`user-${user}.yaml`, `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtt://127.0.0.1:1", username: ${user} }\nstate_dir: state\n`);
    const wrong = await dcim(['agent', '--check', '-c', cfg('agent-edge1')]);
    expect(wrong.code).toBe(0);
    expect(wrong.stderr.trim()).toBe(`warning: DCIM_E_MQTT_USER_UNEXPECTED: ${join(dir, 'user-agent-edge1.yaml')}: mqtt.username: agent-edge1 is not demo.edge1, the user dcim broker-config grants this agent's topics (fine only with an ACL of your own)`);
    const right = await dcim(['agent', '--check', '-c', cfg('demo.edge1')]);
    expect([right.code, right.stderr]).toEqual([0, '']);
  });

  it('lists every schema problem of the config file, each with its path', async () => {
    const c = write('schema.yaml', `agent: { id: Edge1, site_seed: x.yaml }\nmqtt: { url: "http://broker" }\nstate_dir: state\nmetrics: { listen: "9464" }\nhealth: { interval_s: 1, every: 2 }\nextra: true\n`);
    const r = await dcim(['agent', '--check', '-c', c]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    for (const line of [`${c}: agent.id:`, `${c}: mqtt.url:`, `${c}: metrics.listen: expected host:port`, `${c}: health.interval_s:`, `${c}: health: Unrecognized key: "every"`, `${c}: (root): Unrecognized key: "extra"`]) expect(r.stderr).toContain(line);
    expect(r.stderr).toMatch(/DCIM_E_CONFIG_INVALID: .*6 problem\(s\)/);
  });

  it('lists every problem across config, seed, profiles, secrets, TLS files and the metrics address', async () => {
    const s = write(
      'bad-seed.yaml',
      seed(`  - { id: pdu-1, profile: apc-rpdu9, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161 } }
  - { id: ups-1, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 127.0.0.1, port: 16162, version: "3", user: u, auth_protocol: sha256, auth_key: { env: UPS_AUTH_KEY }, priv_protocol: aes, priv_key: { file: no-such-priv.key } } }
  - { id: gpu-1, profile: redfish-gpu-server, rack: r01, address: { protocol: redfish, host: 127.0.0.1, port: 18001, scheme: http, username: admin, password: { env: BMC_PASSWORD } } }
  - { id: meter-1, profile: eastron-sdm630, hall: h1, address: { protocol: snmp, host: 127.0.0.1, port: 16163 } }`),
    );
    const c = write(
      'bad.yaml',
      `agent: { id: edge1, site_seed: ${s}, devices: [pdu-1, ups-1, gpu-1, meter-1, nope] }
mqtt: { url: "mqtts://127.0.0.1:8883", password: { env: MQTT_PW }, tls: { ca: no-such-ca.pem } }
state_dir: state
metrics: { listen: "192.0.2.1:9464" }
`,
    );
    const r = await dcim(['agent', '--check', '-c', c]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const want = [
      `${c}: agent.devices[4]: no device nope in site demo`,
      `${s}: devices[0].profile: no profile apc-rpdu9`,
      `${s}: devices[3].address.protocol: profile eastron-sdm630 speaks modbus, the address says snmp`,
      `${s}: devices[1].address.auth_key: environment variable UPS_AUTH_KEY is not set`,
      `${s}: devices[1].address.priv_key: cannot read secret file ${join(dir, 'no-such-priv.key')}`,
      `${s}: devices[2].address.password: environment variable BMC_PASSWORD is not set`,
      `${c}: mqtt.password: environment variable MQTT_PW is not set`,
      `${c}: mqtt.tls.ca: cannot read no-such-ca.pem`,
      `${c}: metrics.listen: 192.0.2.1 is not an address of this machine`,
    ];
    for (const line of want) expect(r.stderr).toContain(line);
    expect(r.stderr).toMatch(new RegExp(`DCIM_E_CONFIG_INVALID: ${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${want.length} problem\\(s\\)`));
  });

  it('refuses SNMPv3 devices that cannot run at the level their settings state or imply, each with its path', async () => {
    write('ups-auth.key', 'auth-pass-123\n');
    const s = write(
      'v3-level-seed.yaml',
      seed(`  - { id: ups-1, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.11, version: "3", user: ops, auth_protocol: sha256, auth_key: { file: ups-auth.key }, priv_protocol: aes } }
  - { id: ups-2, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.12, version: "3", user: ops, security_level: authPriv, auth_protocol: sha256, auth_key: { file: ups-auth.key } } }
  - { id: ups-3, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.13, version: "3", user: ops, auth_protocol: sha256, auth_key: { env: SHORT_KEY }, priv_protocol: aes, priv_key: { env: SHORT_KEY } } }
  - { id: ups-4, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.14, version: 2c, user: ops, auth_protocol: sha, auth_key: { file: ups-auth.key } } }`),
    );
    const c = write('v3-level.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstate_dir: state\n`);
    const r = await dcim(['agent', '--check', '-c', c], { SHORT_KEY: 'seven77' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const want = [
      `${s}: devices[0].address.priv_key: privacy needs both priv_protocol and priv_key; only priv_protocol is set`,
      `${s}: devices[1].address.security_level: security_level authPriv needs auth_protocol, auth_key, priv_protocol and priv_key; the settings given make authNoPriv`,
      `${s}: devices[2].address.auth_key: passphrase shorter than 8 characters (RFC 3414 forbids it)`,
      `${s}: devices[2].address.priv_key: passphrase shorter than 8 characters (RFC 3414 forbids it)`,
      `${s}: devices[3].address.version: SNMPv3 settings (user, auth_protocol, auth_key) on a version 2c device would be ignored`,
    ];
    for (const line of want) expect(r.stderr).toContain(line);
    expect(r.stderr).toContain(`DCIM_E_SNMP_V3_LEVEL: ${c}: ${want.length} problem(s)`);
    expect(r.stderr).not.toContain('seven77');
    expect(r.stderr).not.toContain('auth-pass-123');
  });

  it('refuses an MQTT TLS private key that others may read, naming the file and its mode', async () => {
    const s = write('tls-key-seed.yaml', seed(`  - { id: pdu-1, profile: apc-rpdu2, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161 } }`));
    write('client.pem', 'CERT');
    const key = write('client.key', 'KEY');
    chmodSync(key, 0o640);
    const c = write('tls-key.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtts://127.0.0.1:8883", tls: { cert: client.pem, key: client.key } }\nstate_dir: state\n`);
    const r = await dcim(['agent', '--check', '-c', c]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`DCIM_E_SECRET_FILE_INSECURE: ${c}: mqtt.tls.key: secret file ${key} has mode 0640 (group may read it)`);
    const allowed = await dcim(['agent', '--check', '-c', c], { DCIM_ALLOW_INSECURE_SECRET_FILES: '1' });
    expect(allowed.code).toBe(0);
  });

  it('passes weak SNMPv3 settings with a warning each: MD5, DES, no privacy to a public address', async () => {
    const s = write(
      'v3-weak-seed.yaml',
      seed(`  - { id: ups-1, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.11, version: "3", user: ops, auth_protocol: md5, auth_key: { env: K }, priv_protocol: des, priv_key: { env: K } } }
  - { id: ups-2, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 198.51.100.7, version: "3", user: ops, auth_protocol: sha256, auth_key: { env: K } } }
  - { id: ups-3, profile: rfc1628-ups, hall: h1, address: { protocol: snmp, host: 10.0.0.13, version: "3", user: ops, auth_protocol: sha256, auth_key: { env: K }, priv_protocol: aes, priv_key: { env: K } } }`),
    );
    const c = write('v3-weak.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstate_dir: state\n`);
    const r = await dcim(['agent', '--check', '-c', c], { K: 'long-enough-key' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${c}: ok (agent edge1, site demo, 3 devices,`);
    expect(r.stderr.trim().split('\n')).toEqual([
      `warning: DCIM_E_SNMP_V3_WEAK: ${s}: devices[0].address.auth_protocol: HMAC-MD5 authentication is weak: use sha256 or stronger if the device has it`,
      `warning: DCIM_E_SNMP_V3_WEAK: ${s}: devices[0].address.priv_protocol: DES privacy (56-bit key) can be brute-forced: use aes or aes256b/aes256r if the device has it`,
      `warning: DCIM_E_SNMP_V3_WEAK: ${s}: devices[1].address.security_level: authNoPriv to the public address 198.51.100.7: readings cross the network in clear; use authPriv`,
    ]);
  });
});

describe('secrets in a real agent run', () => {
  const SECRETS = {
    community: 'comm-Zq81-secret',
    auth: 'auth-Kx27-secret',
    priv: 'priv-Lm55-secret',
    bmc: 'bmc-Pp09-secret',
    mqtt: 'mqtt-Tt44-secret',
  };
  let sim: SimSite;
  let broker: EmbeddedBroker;
  const saved = { ...process.env };

  beforeAll(async () => {
    // The simulator runs in this process and resolves the same references as the agent.
    process.env.DCIM_TEST_COMMUNITY = SECRETS.community;
    process.env.DCIM_TEST_AUTH = SECRETS.auth;
    const privFile = write('priv.key', `${SECRETS.priv}\n`);
    const bmcFile = write('bmc.pw', SECRETS.bmc);
    const inv: SiteInventory = SiteInventorySchema.parse({
      site: { id: 'demo', name: 'Demo' },
      halls: [{ id: 'h1' }],
      racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
      devices: [
        { id: 'pdu-1', profile: 'apc-rpdu2', rack: 'r01', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: { env: 'DCIM_TEST_COMMUNITY' } }, meter: { role: 'it', level: 'pdu_out' } },
        {
          id: 'ups-1',
          profile: 'rfc1628-ups',
          hall: 'h1',
          interval_s: 1,
          address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, version: '3', user: 'dcim-test', auth_protocol: 'sha256', auth_key: { env: 'DCIM_TEST_AUTH' }, priv_protocol: 'aes', priv_key: { file: privFile }, context: 'ups-1' },
          meter: { role: 'it', level: 'ups_out' },
        },
        { id: 'gpu-1', profile: 'redfish-gpu-server', rack: 'r01', interval_s: 1, address: { protocol: 'redfish', host: '127.0.0.1', port: 18001, scheme: 'http', username: 'admin', password: { file: bmcFile } } },
      ],
    });
    sim = await startSimSite({ inventory: inv, bind: 'ephemeral', logger: memoryLogger('error') });
    broker = await startEmbeddedBroker();
  }, 20_000);

  afterAll(async () => {
    await broker?.stop();
    await sim?.stop();
    for (const k of ['DCIM_TEST_COMMUNITY', 'DCIM_TEST_AUTH']) if (saved[k] === undefined) delete process.env[k];
  });

  it('polls with every secret and prints none of them, even at debug level', async () => {
    const s = write('run-seed.yaml', stringify(sim.inventory()));
    const url = broker.url.replace('mqtt://', `mqtt://agent:${SECRETS.mqtt}@`);
    const c = write('run.yaml', `agent: { id: edge1, site_seed: ${s} }\nmqtt: { url: "${url}", username: agent, password: { env: DCIM_TEST_MQTT } }\nstate_dir: ${join(dir, 'state')}\n`);
    const env = { DCIM_TEST_COMMUNITY: SECRETS.community, DCIM_TEST_AUTH: SECRETS.auth, DCIM_TEST_MQTT: SECRETS.mqtt, DCIM_LOG_LEVEL: 'debug' };
    const check = await dcim(['agent', '--check', '-c', c], env);
    expect(check.code).toBe(0);
    // A real process: what a person would see on the terminal and in the journal.
    const r = await spawnDcim(['agent', '-c', c, '--duration-s', '3'], env);
    const out = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    // The run used the secrets: the v2c PDU, the v3 UPS and the BMC answered.
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'device status' && l.device === 'pdu-1')).toMatchObject({ state: 'up' });
    expect(lines.find((l) => l.msg === 'device status' && l.device === 'ups-1')).toMatchObject({ state: 'up' });
    expect(lines.find((l) => l.msg === 'device status' && l.device === 'gpu-1')).toMatchObject({ state: 'up' });
    // The broker URL's password is shown masked, so the masking is what keeps it out.
    expect(lines.find((l) => l.msg === 'mqtt connected')?.url).toBe(url.replace(SECRETS.mqtt, '***'));
    for (const [name, secret] of Object.entries(SECRETS)) expect(out.includes(secret), `the ${name} secret appears in the output`).toBe(false);
  }, 30_000);
});
