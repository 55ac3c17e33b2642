import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDcim as dcim, ROOT } from '../support/run-dcim.js';

/** `dcim collector --check` reads the HTTPS certificate and key the way the start will. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-collector-check-'));
  for (const name of ['a', 'b']) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '1', '-subj', '/CN=dcim-test'], { stdio: 'ignore' });
    chmodSync(join(dir, `${name}.key`), 0o600);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (name: string, tls: string) => {
  const f = join(dir, name);
  writeFileSync(f, `collector: { id: main, sites: [${join(ROOT, 'seeds', 'demo.yaml')}] }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:" }\nhttp: { listen: "127.0.0.1:0", token: { env: API_TOKEN }, tls: ${tls} }\n`);
  return f;
};

describe('dcim collector --check with http.tls', () => {
  it('a matching certificate and key: ok, and says HTTPS', async () => {
    const r = await dcim(['collector', '--check', '-c', config('ok.yaml', '{ cert_file: a.pem, key_file: a.key }')], { API_TOKEN: 'collector-check-token-0123' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('http.tls: certificate and key ok (HTTPS)');
  });

  it('a key of another certificate fails the check, naming the setting', async () => {
    const r = await dcim(['collector', '--check', '-c', config('mismatch.yaml', '{ cert_file: a.pem, key_file: b.key }')], { API_TOKEN: 'collector-check-token-0123' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DCIM_E_CONFIG_INVALID: http\.tls: .*a\.pem and .*b\.key are not a usable certificate and key pair/);
  });

  it('a key file others may read fails the check with its mode', async () => {
    chmodSync(join(dir, 'b.key'), 0o644);
    try {
      const r = await dcim(['collector', '--check', '-c', config('open.yaml', '{ cert_file: b.pem, key_file: b.key }')], { API_TOKEN: 'collector-check-token-0123' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/DCIM_E_SECRET_FILE_INSECURE: http\.tls\.key_file: secret file .*b\.key has mode 0644/);
    } finally {
      chmodSync(join(dir, 'b.key'), 0o600);
    }
  });
});

describe('dcim collector --check resolves every secret', () => {
  it('lists each missing secret and each secret file others may read, all at once, never a value', async () => {
    const pw = join(dir, 'mqtt.pw');
    writeFileSync(pw, 'mqtt-secret-value\n', { mode: 0o644 });
    chmodSync(pw, 0o644);
    const f = join(dir, 'secrets.yaml');
    writeFileSync(
      f,
      [
        `collector: { id: main, sites: [${join(ROOT, 'seeds', 'demo.yaml')}] }`,
        `mqtt: { url: "mqtt://127.0.0.1:1", password: { file: ${pw} } }`,
        `store: { kind: influx_v2, url: "http://127.0.0.1:1", org: o, bucket: b, token: { env: INFLUX_TOKEN } }`,
        `http: { listen: "127.0.0.1:0", token: { env: API_TOKEN } }`,
        `alerts: { dingtalk: [{ name: ops, access_token: { env: DINGTALK_TOKEN } }] }`,
      ].join('\n'),
    );
    const r = await dcim(['collector', '--check', '-c', f]);
    expect(r.code).toBe(1);
    for (const line of [
      `mqtt.password: secret file ${pw} has mode 0644`,
      'store.token: environment variable INFLUX_TOKEN is not set',
      'http.token: environment variable API_TOKEN is not set',
      'alerts.dingtalk[0].access_token: environment variable DINGTALK_TOKEN is not set',
    ])
      expect(r.stderr).toContain(line);
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID: 4 secret problem(s)');
    expect(r.stderr).not.toContain('mqtt-secret-value');
    const ok = await dcim(['collector', '--check', '-c', f], { DCIM_ALLOW_INSECURE_SECRET_FILES: '1', INFLUX_TOKEN: 'i', API_TOKEN: 'collector-check-token-0123', DINGTALK_TOKEN: 'd' });
    expect(ok.stderr).not.toContain('DCIM_E_CONFIG');
    expect(ok.code).toBe(0);
  });
});

describe('dcim collector --check and device owners', () => {
  it('warns about a site that names no device owner (any agent may speak for it), and not about one that does', async () => {
    const open = join(dir, 'open-seed.yaml');
    writeFileSync(open, 'site: { id: lab, name: Lab }\nhalls: [{ id: h1 }]\nracks: [{ id: r01, hall: h1, rated_kw: 12 }]\ndevices:\n  - { id: pdu-1, profile: apc-rpdu2, rack: r01, address: { protocol: snmp, host: 127.0.0.1, port: 16161, community: public } }\n');
    const f = join(dir, 'owners.yaml');
    writeFileSync(f, `collector: { id: main, sites: [${open}, ${join(ROOT, 'seeds', 'demo.yaml')}] }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:" }\n`);
    const r = await dcim(['collector', '--check', '-c', f]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('warning: DCIM_E_SITE_OPEN: site lab names no device owner (site.agent, devices[].agent): any agent may speak for its devices');
  });
});

describe('dcim collector --check with the old mqtt.tls keys', () => {
  it('passes, printing one deprecation warning per old key with the file and the key to write instead', async () => {
    const f = join(dir, 'mqtt-tls-old.yaml');
    writeFileSync(f, `collector: { id: main, sites: [${join(ROOT, 'seeds', 'demo.yaml')}] }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: a.pem, cert: a.pem, key: a.key } }\nstore: { kind: sqlite, path: ":memory:" }\n`);
    const r = await dcim(['collector', '--check', '-c', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(['ca', 'cert', 'key'].map((k) => `warning: DCIM_E_CONFIG_DEPRECATED: ${f}: mqtt.tls.${k} is deprecated: write mqtt.tls.${k}_file (same value)\n`).join(''));
  });
});
