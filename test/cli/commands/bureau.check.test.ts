import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDcim as dcim, ROOT } from '../support/run-dcim.js';

/** `dcim bureau --check`: the shipped example, and a config whose clusters file is wrong in several places at once. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-bureau-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { DCIM_BUREAU_MQTT_PASSWORD: 'bureau-mqtt-pw', DCIM_API_TOKEN: 'bureau-check-token-0123456' };

describe('dcim bureau --check', () => {
  it('passes the shipped example, naming its sites and clusters (its SQLite retention covers what a restart reads: no warning)', async () => {
    const r = await dcim(['bureau', '--check', '-c', join(ROOT, 'collector', 'bureau', 'bureau.example.yaml')], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok (3 site(s), 1 cluster(s), store sqlite, cluster guian (guian-ai, guian-north, guian-south))');
  });

  it('reports every problem of the config and its clusters file at once, each with its file and path', async () => {
    writeFileSync(join(dir, 'clusters.yaml'), 'clusters:\n  - { id: c1, name: C1, sites: [a, b] }\n  - { id: c1, name: again, sites: [c] }\n  - { id: a, name: A, sites: [d] }\n');
    const f = join(dir, 'bureau.yaml');
    writeFileSync(f, `bureau: { id: b1, clusters: clusters.yaml, silent_after_windows: 4 }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:", retention_days: 7 }\n`);
    const r = await dcim(['bureau', '--check', '-c', f], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID');
    expect(r.stderr).toMatch(/clusters\.yaml: clusters\[1\]\.id: duplicate id c1/);
    expect(r.stderr).toMatch(/clusters\.yaml: clusters\[2\]\.id: a is also a site id/);
  });

  it('warns when the SQLite store would delete the quarter hours a restart reads back', async () => {
    writeFileSync(join(dir, 'ok-clusters.yaml'), 'clusters:\n  - { id: c1, name: C1, sites: [a, b] }\n');
    const f = join(dir, 'short.yaml');
    writeFileSync(f, `bureau: { id: b1, clusters: ok-clusters.yaml }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:", retention_days: 3 }\n`);
    const r = await dcim(['bureau', '--check', '-c', f], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: DCIM_E_STORE_RETENTION_SHORT: store\.retention_days 3/);
    const week = join(dir, 'week.yaml');
    writeFileSync(week, `bureau: { id: b1, clusters: ok-clusters.yaml }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:", retention_days: 7 }\n`);
    expect((await dcim(['bureau', '--check', '-c', week], env)).stderr).toBe('');
  });

  it('prints a deprecation warning for each old mqtt.tls key, with the file and the new key, and refuses both spellings at once', async () => {
    writeFileSync(join(dir, 'tls-clusters.yaml'), 'clusters:\n  - { id: c1, name: C1, sites: [a] }\n');
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const old = join(dir, 'tls-old.yaml');
    writeFileSync(old, `bureau: { id: b1, clusters: tls-clusters.yaml }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: ca.pem } }\nstore: { kind: sqlite, path: ":memory:" }\n`);
    const r = await dcim(['bureau', '--check', '-c', old], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: DCIM_E_CONFIG_DEPRECATED: ${old}: mqtt.tls.ca is deprecated: write mqtt.tls.ca_file (same value)\n`);
    const now = join(dir, 'tls-new.yaml');
    writeFileSync(now, `bureau: { id: b1, clusters: tls-clusters.yaml }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: { ca_file: ca.pem } }\nstore: { kind: sqlite, path: ":memory:" }\n`);
    expect(await dcim(['bureau', '--check', '-c', now], env)).toMatchObject({ code: 0, stderr: '' });
    const both = join(dir, 'tls-both.yaml');
    writeFileSync(both, `bureau: { id: b1, clusters: tls-clusters.yaml }\nmqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: ca.pem, ca_file: ca.pem } }\nstore: { kind: sqlite, path: ":memory:" }\n`);
    const b = await dcim(['bureau', '--check', '-c', both], env);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/DCIM_E_CONFIG_INVALID[\s\S]*mqtt\.tls\.ca: both ca \(deprecated\) and ca_file are given/);
  });

  it("resolves the silence notifiers' secrets as the start would", async () => {
    writeFileSync(join(dir, 'am-clusters.yaml'), 'clusters:\n  - { id: c1, name: C1, sites: [a] }\n');
    const f = join(dir, 'am.yaml');
    writeFileSync(f, `bureau: { id: b1, clusters: am-clusters.yaml }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nstore: { kind: sqlite, path: ":memory:" }\nalerts: { alertmanager: { urls: ["http://127.0.0.1:9093"], bearer_token: { env: AM_TOKEN_NOT_SET } } }\n`);
    const r = await dcim(['bureau', '--check', '-c', f], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DCIM_E_SECRET_MISSING: .*alerts\.alertmanager\.bearer_token/);
  });
});
