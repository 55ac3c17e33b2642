import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DcimError } from '../../contract/index.js';
import { loadAgentConfig } from '../../agent/config.js';

const demoSeed = readFileSync(join(import.meta.dirname, '..', '..', 'seeds', 'minimal.yaml'), 'utf8');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-agent-config-'));
  mkdirSync(join(dir, 'seeds'));
  writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text, { mode: 0o600 }); // secret files must be owner-only
  return f;
}

function problems(file: string, env: NodeJS.ProcessEnv = {}): { code: string; details: readonly string[] } {
  try {
    loadAgentConfig(file, env);
  } catch (e) {
    if (e instanceof DcimError) return { code: e.code, details: e.details };
    throw e;
  }
  throw new Error('expected the config to be refused');
}

const good = `
agent:
  id: edge-1
  site_seed: seeds/demo.yaml
mqtt:
  url: mqtt://127.0.0.1:1883
  username: agent-edge1
  password: { env: DCIM_MQTT_PASSWORD }
state_dir: state
`;

describe('loadAgentConfig', () => {
  it('loads the config, the seed and the profiles, resolving paths and secrets', () => {
    const c = loadAgentConfig(write('agent.yaml', good), { DCIM_MQTT_PASSWORD: 'pw' });
    expect(c.id).toBe('edge-1');
    expect(c.inventory.site.id).toBe('demo');
    expect(c.stateDir).toBe(join(dir, 'state'));
    expect(c.siteSeedFile).toBe(join(dir, 'seeds', 'demo.yaml'));
    expect(c.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', username: 'agent-edge1', password: 'pw' });
    // Only the profiles the seed's devices name are built: the rest of the catalogue costs memory.
    expect([...c.profiles.keys()].sort()).toEqual(['apc-rpdu2', 'eastron-sdm630']);
    expect(c.deviceIds).toBeUndefined();
  });

  it('reads TLS files and a password file relative to the config', () => {
    write('ca.pem', 'CA');
    write('pw.txt', 'from-file\n');
    const c = loadAgentConfig(write('agent.yaml', good.replace('{ env: DCIM_MQTT_PASSWORD }', '{ file: pw.txt }')), {});
    expect(c.mqtt.password).toBe('from-file');
    const t = loadAgentConfig(write('tls.yaml', good.replace('url: mqtt://127.0.0.1:1883', 'url: mqtts://127.0.0.1:8883\n  tls: { ca: ca.pem, reject_unauthorized: false }')), { DCIM_MQTT_PASSWORD: 'x' });
    expect(t.mqtt.tls).toEqual({ ca: Buffer.from('CA'), rejectUnauthorized: false });
  });

  it('reads mqtt.tls ca_file / cert_file / key_file, the keys the collector and the bureau read', () => {
    write('ca.pem', 'CA');
    write('c.pem', 'CERT');
    write('c.key', 'KEY');
    const c = loadAgentConfig(write('tls-new.yaml', good.replace('url: mqtt://127.0.0.1:1883', 'url: mqtts://127.0.0.1:8883\n  tls: { ca_file: ca.pem, cert_file: c.pem, key_file: c.key }')), { DCIM_MQTT_PASSWORD: 'x' });
    expect(c.mqtt.tls).toEqual({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), rejectUnauthorized: true });
    expect(c.warnings.filter((w) => w.code === 'DCIM_E_CONFIG_DEPRECATED')).toEqual([]);
  });

  it('still reads the old mqtt.tls ca / cert / key, with one deprecation warning per key naming the file and the new key', () => {
    write('ca.pem', 'CA');
    write('c.pem', 'CERT');
    write('c.key', 'KEY');
    const f = write('tls-old.yaml', good.replace('url: mqtt://127.0.0.1:1883', 'url: mqtts://127.0.0.1:8883\n  tls: { ca: ca.pem, cert: c.pem, key: c.key }'));
    const c = loadAgentConfig(f, { DCIM_MQTT_PASSWORD: 'x' });
    expect(c.mqtt.tls).toEqual({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), rejectUnauthorized: true });
    expect(c.warnings.filter((w) => w.code === 'DCIM_E_CONFIG_DEPRECATED').map((w) => w.line)).toEqual(
      ['ca', 'cert', 'key'].map((k) => `${f}: mqtt.tls.${k} is deprecated: write mqtt.tls.${k}_file (same value)`),
    );
  });

  it('refuses both spellings of one TLS key at once: either could be the file meant', () => {
    write('ca.pem', 'CA');
    const p = problems(write('tls-both.yaml', good.replace('url: mqtt://127.0.0.1:1883', 'url: mqtts://127.0.0.1:8883\n  tls: { ca: ca.pem, ca_file: ca.pem }')), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(p.details).toEqual([expect.stringMatching(/tls-both\.yaml: mqtt\.tls\.ca: both ca \(deprecated\) and ca_file are given: keep ca_file only/)]);
  });

  it('refuses tls settings with a plaintext broker URL (the client would connect in the clear)', () => {
    write('ca.pem', 'CA');
    const p = problems(write('tls-plain.yaml', good.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  tls: { ca: ca.pem }')), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(p.details).toEqual([expect.stringMatching(/tls-plain\.yaml: mqtt\.url: tls is set but mqtt:\/\/ connects in plaintext/)]);
  });

  it('narrows to the listed devices', () => {
    const c = loadAgentConfig(write('agent.yaml', good.replace('site_seed: seeds/demo.yaml', 'site_seed: seeds/demo.yaml\n  devices: [meter-incomer-1]')), { DCIM_MQTT_PASSWORD: 'x' });
    expect(c.deviceIds).toEqual(['meter-incomer-1']);
  });

  it('lists every schema problem of the config with file and path', () => {
    const f = write('bad.yaml', `
agent:
  id: Edge 1
  site_seed: seeds/demo.yaml
  colour: blue
mqtt:
  url: localhost
state_dir: 5
`);
    const p = problems(f);
    expect(p.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(p.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bad\.yaml: agent\.id: /),
        expect.stringMatching(/bad\.yaml: agent: .*colour/),
        expect.stringMatching(/bad\.yaml: mqtt\.url: expected a broker URL/),
        expect.stringMatching(/bad\.yaml: state_dir: /),
      ]),
    );
  });

  it('an unknown profile is DCIM_E_PROFILE_UNKNOWN, named with the seed file and path', () => {
    writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed.replace('profile: apc-rpdu2', 'profile: apc-rpdu9'));
    const p = problems(write('agent.yaml', good), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.code).toBe('DCIM_E_PROFILE_UNKNOWN');
    expect(p.details).toEqual([expect.stringMatching(/^seeds\/demo\.yaml: devices\[0\]\.profile: no profile apc-rpdu9/)]);
  });

  it('collects problems across files at once: seed, device list, secrets, TLS', () => {
    writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed.replace('profile: apc-rpdu2', 'profile: apc-rpdu9').replace('community: public', 'community: { env: PDU_COMMUNITY }'));
    const f = write('agent.yaml', good.replace('site_seed: seeds/demo.yaml', 'site_seed: seeds/demo.yaml\n  devices: [meter-incomer-1, ghost]').replace('username: agent-edge1', 'username: agent-edge1\n  tls: { ca: missing-ca.pem }').replace('url: mqtt://', 'url: mqtts://'));
    const p = problems(f, {});
    expect(p.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(p.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/agent\.yaml: agent\.devices\[1\]: no device ghost/),
        expect.stringMatching(/mqtt\.password: environment variable DCIM_MQTT_PASSWORD is not set/),
        expect.stringMatching(/agent\.yaml: mqtt\.tls\.ca: cannot read missing-ca\.pem/),
      ]),
    );
    expect(p.details).toHaveLength(3);
  });

  it('reports a missing secret of a polled device', () => {
    writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed.replace('community: public', 'community: { env: PDU_COMMUNITY }'));
    const p = problems(write('agent.yaml', good), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.code).toBe('DCIM_E_SECRET_MISSING');
    expect(p.details).toEqual([expect.stringMatching(/seeds\/demo\.yaml: devices\[0\]\.address\.community: environment variable PDU_COMMUNITY/)]);
  });

  it('reports seed schema problems with the seed file name', () => {
    writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed.replace('rated_kw: 12\n', 'rated_kw: -3\n'));
    const p = problems(write('agent.yaml', good), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.details).toEqual([expect.stringMatching(/^seeds\/demo\.yaml: racks\[0\]\.rated_kw: /)]);
  });

  it('a protocol mismatch between profile and address is refused', () => {
    writeFileSync(join(dir, 'seeds', 'demo.yaml'), demoSeed.replace('profile: eastron-sdm630', 'profile: apc-rpdu2'));
    const p = problems(write('agent.yaml', good), { DCIM_MQTT_PASSWORD: 'x' });
    expect(p.details).toEqual([expect.stringMatching(/devices\[1\]\.address\.protocol: profile apc-rpdu2 speaks snmp, the address says modbus/)]);
  });

  it.each([
    ['a missing file', null, 'DCIM_E_CONFIG_UNREADABLE'],
    ['invalid YAML', 'agent: [', 'DCIM_E_CONFIG_UNREADABLE'],
    ['a duplicate key', 'agent: {}\nagent: {}\n', 'DCIM_E_CONFIG_UNREADABLE'],
  ])('%s is unreadable', (_name, text, code) => {
    const f = text === null ? join(dir, 'nope.yaml') : write('x.yaml', text);
    expect(problems(f).code).toBe(code);
  });
});
