import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDcim as dcim, ROOT } from './support/run-dcim.js';

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
    const r = await dcim(['collector', '--check', '-c', config('ok.yaml', '{ cert_file: a.pem, key_file: a.key }')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('http.tls: certificate and key ok (HTTPS)');
  });

  it('a key of another certificate fails the check, naming the setting', async () => {
    const r = await dcim(['collector', '--check', '-c', config('mismatch.yaml', '{ cert_file: a.pem, key_file: b.key }')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DCIM_E_CONFIG_INVALID: http\.tls: .*a\.pem and .*b\.key are not a usable certificate and key pair/);
  });

  it('a key file others may read fails the check with its mode', async () => {
    chmodSync(join(dir, 'b.key'), 0o644);
    try {
      const r = await dcim(['collector', '--check', '-c', config('open.yaml', '{ cert_file: b.pem, key_file: b.key }')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/DCIM_E_SECRET_FILE_INSECURE: http\.tls\.key_file: secret file .*b\.key has mode 0644/);
    } finally {
      chmodSync(join(dir, 'b.key'), 0o600);
    }
  });
});
