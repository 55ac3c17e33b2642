import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCollectorConfig } from '../../collector/config.js';
import { createCollectorFromConfig, kpiEngineConfig } from '../../collector/from-config.js';
import { InfluxV1Sink } from '../../collector/store/influx-v1-sink.js';
import { InfluxV2Sink } from '../../collector/store/influx-v2-sink.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { DcimError } from '../../contract/errors.js';
import { memoryLogger } from '../../shared/log.js';

const DEMO_SEED = path.resolve(import.meta.dirname, '../../seeds/demo.yaml');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dcim-collector-config-'));
  await mkdir(path.join(dir, 'seeds'));
  await writeFile(path.join(dir, 'seeds', 'bad.yaml'), 'site: { id: BAD, name: x }\nhalls: []\ndevices: []\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DcimError);
    return [...(e as DcimError).details];
  }
  throw new Error('expected a DcimError');
}

describe('loadCollectorConfig', () => {
  it('loads the demo seed; paths are relative to the config file; defaults applied', async () => {
    const file = await configFile('ok.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1883' }\nstore: { kind: sqlite, path: data/dcim.sqlite }\n`);
    const setup = loadCollectorConfig(file);
    expect(setup.inventories.map((i) => i.site.id)).toEqual(['demo']);
    expect(setup.config.store).toEqual({ kind: 'sqlite', path: path.join(dir, 'data', 'dcim.sqlite'), retention_days: 7 });
    expect(setup.config.kpi.interval_s).toBe(5);
  });

  it('lists every problem of the config with file and path at once', async () => {
    const file = await configFile(
      'bad.yaml',
      `collector: { id: Main, sites: [] }\nmqtt: { url: 'http://x', password: { env: 'bad name' } }\nstore: { kind: influx_v2, url: 'http://127.0.0.1:8086', org: o }\nkpi: { interval_s: 0 }\n`,
    );
    const p = problems(() => loadCollectorConfig(file));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}: collector\\.id: `)),
        expect.stringMatching(new RegExp(`^${file}: collector\\.sites: `)),
        expect.stringMatching(new RegExp(`^${file}: mqtt\\.url: expected a broker URL`)),
        expect.stringMatching(new RegExp(`^${file}: mqtt\\.password`)),
        expect.stringMatching(new RegExp(`^${file}: store\\.bucket: `)),
        expect.stringMatching(new RegExp(`^${file}: store\\.token: `)),
        expect.stringMatching(new RegExp(`^${file}: kpi\\.interval_s: `)),
      ]),
    );
  });

  it('reports problems inside seeds and unreadable seeds together', async () => {
    const file = await configFile('seeds.yaml', `collector: { id: main, sites: [seeds/bad.yaml, seeds/missing.yaml, ${DEMO_SEED}, ${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1' }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    const p = problems(() => loadCollectorConfig(file));
    const bad = path.join(dir, 'seeds', 'bad.yaml');
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${bad}: site\\.id: `)),
        expect.stringMatching(new RegExp(`^${bad}: halls: `)),
        expect.stringMatching(/missing\.yaml: cannot read/),
        expect.stringMatching(/collector\.sites\[3\]: site id demo is also declared in/),
      ]),
    );
  });

  it.each(['mqtt', 'tcp', 'ws'])('refuses tls settings with a plaintext %s:// broker URL (the client would connect in the clear)', async (scheme) => {
    const file = await configFile(`tls-${scheme}.yaml`, `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: '${scheme}://127.0.0.1:1883', tls: { ca_file: ca.pem } }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    expect(problems(() => loadCollectorConfig(file))).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`mqtt\\.url: tls is set but ${scheme}:// connects in plaintext`))]));
    const secure = await configFile('tls-ok.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca_file: ca.pem } }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    expect(loadCollectorConfig(secure).config.mqtt).toMatchObject({ url: 'mqtts://127.0.0.1:8883' });
  });

  it('reads mqtt.tls ca_file / cert_file / key_file without a deprecation, paths made absolute', async () => {
    const file = await configFile('tls-new.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca_file: ca.pem, cert_file: c.pem, key_file: c.key } }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    const setup = loadCollectorConfig(file);
    expect(setup.config.mqtt.tls).toEqual({ ca_file: path.join(dir, 'ca.pem'), cert_file: path.join(dir, 'c.pem'), key_file: path.join(dir, 'c.key'), reject_unauthorized: true });
    expect(setup.deprecations).toEqual([]);
  });

  it("still reads the agent's old mqtt.tls ca / cert / key as ca_file / cert_file / key_file, each named in a deprecation line", async () => {
    const file = await configFile('tls-old.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca: ca.pem, cert: c.pem, key: c.key, reject_unauthorized: false } }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    const setup = loadCollectorConfig(file);
    expect(setup.config.mqtt.tls).toMatchObject({ ca_file: path.join(dir, 'ca.pem'), cert_file: path.join(dir, 'c.pem'), key_file: path.join(dir, 'c.key'), reject_unauthorized: false });
    expect(setup.deprecations).toEqual(['ca', 'cert', 'key'].map((k) => `${file}: mqtt.tls.${k} is deprecated: write mqtt.tls.${k}_file (same value)`));
  });

  it('refuses both spellings of one TLS key at once', async () => {
    const file = await configFile('tls-both.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtts://127.0.0.1:8883', tls: { key: a.key, key_file: b.key } }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    expect(problems(() => loadCollectorConfig(file))).toEqual([expect.stringMatching(/mqtt\.tls\.key: both key \(deprecated\) and key_file are given: keep key_file only/)]);
  });

  it("takes the agent's client ids (colons, up to 128 characters): one client-id schema for both", async () => {
    const id = `site:${'a'.repeat(100)}`;
    const file = await configFile('client-id.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1883', client_id: '${id}' }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    expect(loadCollectorConfig(file).config.mqtt.client_id).toBe(id);
    const bad = await configFile('client-id-bad.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1883', client_id: 'has space' }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    expect(problems(() => loadCollectorConfig(bad))).toEqual([expect.stringMatching(/mqtt\.client_id/)]);
  });

  it('refuses unknown keys (a typo must not silently use a default)', async () => {
    const file = await configFile('typo.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1', usrname: x }\nstore: { kind: sqlite, path: x.sqlite, retention: 3 }\n`);
    const p = problems(() => loadCollectorConfig(file));
    expect(p.some((x) => x.includes('mqtt') && x.includes('usrname'))).toBe(true);
    expect(p.some((x) => x.includes('store') && x.includes('retention'))).toBe(true);
  });
});

describe('loadCollectorConfig: http, clusters, store spool, KPI options', () => {
  it('applies defaults and makes every path absolute (spool, clusters file, secret files)', async () => {
    await writeFile(path.join(dir, 'clusters.yaml'), `clusters:\n  - { id: guian, name: "Gui'an", sites: [demo], targets: { pue: 1.25 } }\n`);
    const file = await configFile(
      'full.yaml',
      [
        `collector: { id: main, sites: [${DEMO_SEED}], clusters: clusters.yaml }`,
        `mqtt: { url: 'mqtt://127.0.0.1:1883', password: { file: secrets/mqtt } }`,
        `store: { kind: influx_v1, url: 'http://127.0.0.1:8086', database: dcim, spool: { dir: spool } }`,
        `http: { listen: '127.0.0.1:8080', token: { file: secrets/api-token } }`,
        `kpi: { on_rack: { min_kw: 0.5 }, stale_carry: { max_s: 600 } }`,
      ].join('\n'),
    );
    const { config, clusters } = loadCollectorConfig(file);
    expect(clusters).toEqual([{ id: 'guian', name: "Gui'an", sites: ['demo'], targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 } }]);
    expect(config.collector.clusters).toBe(path.join(dir, 'clusters.yaml'));
    expect(config.mqtt.password).toEqual({ file: path.join(dir, 'secrets', 'mqtt') });
    expect(config.http).toEqual({ listen: '127.0.0.1:8080', max_connections: 256, token: { file: path.join(dir, 'secrets', 'api-token') } });
    expect(config.store).toMatchObject({ kind: 'influx_v1', batch_lines: 5000, spool: { dir: path.join(dir, 'spool'), max_bytes: 1024 * 1024 * 1024, max_age_h: 168, fsync: 'interval', fsync_interval_ms: 200 } });
    expect(config.kpi).toEqual({ interval_s: 5, publish_every_s: 60, settle_s: 60, late_days: 3, restore_history: true, on_rack: { min_kw: 0.5, min_ratio: 0.1, day_ratio: 0.5 }, stale_carry: { max_s: 600, max_share: 0.1 } });
    expect(kpiEngineConfig(config.kpi).stale_carry).toEqual({ max_ms: 600_000, max_share: 0.1 });
  });

  it('lists every problem of http, spool, KPI options and the clusters file at once', async () => {
    await writeFile(path.join(dir, 'bad-clusters.yaml'), `clusters:\n  - { id: demo, name: x, sites: [demo, nowhere] }\n  - { id: c2, name: y, sites: [demo] }\n  - { id: c2, name: z, sites: [demo] }\n`);
    const file = await configFile(
      'bad-new.yaml',
      [
        `collector: { id: main, sites: [${DEMO_SEED}], clusters: bad-clusters.yaml }`,
        `mqtt: { url: 'mqtt://127.0.0.1:1883' }`,
        `store: { kind: influx_v2, url: 'http://127.0.0.1:8086', org: o, bucket: b, token: t, spool: { dir: s, max_bytes: 1000, segment_bytes: 100000000 } }`,
        `http: { listen: 'localhost', cors_origin: '*' }`,
        `kpi: { on_rack: { min_ratio: 2 }, late_days: -1, stale_carry: { max_s: -1, max_share: 0.5 } }`,
      ].join('\n'),
    );
    const p = problems(() => loadCollectorConfig(file));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}: store\\.spool\\.max_bytes: expected at least 1 MiB`)),
        expect.stringMatching(new RegExp(`^${file}: http\\.listen: expected host:port`)),
        expect.stringMatching(new RegExp(`^${file}: http\\.token: `)),
        expect.stringMatching(new RegExp(`^${file}: http\\.cors_origin: expected an origin`)),
        expect.stringMatching(new RegExp(`^${file}: kpi\\.on_rack\\.min_ratio: `)),
        expect.stringMatching(new RegExp(`^${file}: kpi\\.late_days: `)),
        expect.stringMatching(new RegExp(`^${file}: kpi\\.stale_carry\\.max_s: `)),
        expect.stringMatching(new RegExp(`^${file}: kpi\\.stale_carry\\.max_share: `)),
      ]),
    );
    // The config is valid up to the clusters file, whose problems are listed together.
    const ok = await configFile('bad-clusters-only.yaml', `collector: { id: main, sites: [${DEMO_SEED}], clusters: bad-clusters.yaml }\nmqtt: { url: 'mqtt://127.0.0.1:1883' }\nstore: { kind: sqlite, path: x.sqlite }\n`);
    const c = problems(() => loadCollectorConfig(ok));
    const cf = path.join(dir, 'bad-clusters.yaml');
    expect(c).toEqual([
      `${cf}: clusters[0].id: demo is also a site id (both would publish on dcim/v1/demo/kpi)`,
      `${cf}: clusters[0].sites[1]: site nowhere is not one of collector.sites`,
      `${cf}: clusters[2].id: duplicate id c2`,
    ]);
  });

  it('fails at build with DCIM_E_SECRET_MISSING when the API token is not set', async () => {
    const file = await configFile('token.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ':memory:' }\nhttp: { listen: '127.0.0.1:0', token: { env: NO_SUCH_TOKEN } }\n`);
    expect(() => createCollectorFromConfig(loadCollectorConfig(file), { clock: new ManualClock(), logger: memoryLogger(), env: {} })).toThrow(expect.objectContaining({ code: 'DCIM_E_SECRET_MISSING' }));
  });
});

describe('createCollectorFromConfig', () => {
  const build = async (name: string, store: string, env: NodeJS.ProcessEnv = {}) => {
    const file = await configFile(name, `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1', password: { env: MQTT_PW } }\nstore: ${store}\n`);
    return createCollectorFromConfig(loadCollectorConfig(file), { clock: new ManualClock(), logger: memoryLogger(), env: { MQTT_PW: 'pw', ...env } });
  };

  it.each([
    { store: '{ kind: sqlite, path: ":memory:" }', type: SqliteSink },
    { store: '{ kind: influx_v1, url: "http://127.0.0.1:8086", database: dcim, username: u, password: { env: PW } }', type: InfluxV1Sink, env: { PW: 'x' } },
    { store: '{ kind: influx_v2, url: "http://127.0.0.1:8086", org: o, bucket: b, token: { env: TOKEN } }', type: InfluxV2Sink, env: { TOKEN: 't' } },
  ])('builds a $type.name', async ({ store, type, env }) => {
    const { collector, sink } = await build(`build-${type.name}.yaml`, store, env);
    expect(sink).toBeInstanceOf(type);
    expect(collector.stats().messages_received).toBe(0);
    await sink.close();
  });

  it('fails with DCIM_E_SECRET_MISSING when a referenced secret is not set', async () => {
    await expect(build('nosecret.yaml', '{ kind: influx_v2, url: "http://127.0.0.1:8086", org: o, bucket: b, token: { env: NOPE } }')).rejects.toMatchObject({ code: 'DCIM_E_SECRET_MISSING' });
  });
});

describe('http.tls: the API serves HTTPS with a certificate and key from files', () => {
  const tlsDir = () => path.join(dir, 'tls');
  const openssl = (key: string, cert: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tlsDir(), key), '-out', path.join(tlsDir(), cert), '-days', '1', '-subj', '/CN=dcim-test'], { stdio: 'ignore' });
  beforeAll(async () => {
    await mkdir(tlsDir());
    openssl('a.key', 'a.pem');
    openssl('b.key', 'b.pem');
    for (const k of ['a.key', 'b.key']) await chmod(path.join(tlsDir(), k), 0o600);
    await copyFile(path.join(tlsDir(), 'a.key'), path.join(tlsDir(), 'open.key'));
    await chmod(path.join(tlsDir(), 'open.key'), 0o644);
  });
  const build = async (name: string, tls: string, env: NodeJS.ProcessEnv = {}) => {
    const file = await configFile(name, `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ":memory:" }\nhttp: { listen: '127.0.0.1:0', token: { env: TOK }, tls: ${tls} }\n`);
    return () => createCollectorFromConfig(loadCollectorConfig(file), { clock: new ManualClock(), logger: memoryLogger(), env: { TOK: 'tls-config-test-token-0123', ...env } });
  };

  it('resolves both files against the config folder', async () => {
    const file = await configFile('tls-paths.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ":memory:" }\nhttp: { listen: '127.0.0.1:0', token: { env: TOK }, tls: { cert_file: tls/a.pem, key_file: tls/a.key } }\n`);
    expect(loadCollectorConfig(file).config.http?.tls).toEqual({ cert_file: path.join(dir, 'tls', 'a.pem'), key_file: path.join(dir, 'tls', 'a.key') });
  });

  it('a matching pair builds the collector', async () => {
    expect((await build('tls-ok.yaml', '{ cert_file: tls/a.pem, key_file: tls/a.key }'))().collector).toBeDefined();
  });

  it('a key that is not the certificate\'s is DCIM_E_CONFIG_INVALID naming both files', async () => {
    const run = await build('tls-mismatch.yaml', '{ cert_file: tls/a.pem, key_file: tls/b.key }');
    expect(run).toThrow(expect.objectContaining({ code: 'DCIM_E_CONFIG_INVALID', message: expect.stringMatching(/http\.tls: .*a\.pem and .*b\.key are not a usable certificate and key pair/) }));
  });

  it('a key file others may read is DCIM_E_SECRET_FILE_INSECURE, accepted with DCIM_ALLOW_INSECURE_SECRET_FILES=1', async () => {
    const run = await build('tls-open.yaml', '{ cert_file: tls/a.pem, key_file: tls/open.key }');
    expect(run).toThrow(expect.objectContaining({ code: 'DCIM_E_SECRET_FILE_INSECURE', message: expect.stringContaining('http.tls.key_file') }));
    const allowed = await build('tls-open-allowed.yaml', '{ cert_file: tls/a.pem, key_file: tls/open.key }', { DCIM_ALLOW_INSECURE_SECRET_FILES: '1' });
    expect(allowed().collector).toBeDefined();
  });

  it('a missing certificate is DCIM_E_CONFIG_UNREADABLE; a tls block without both files is a schema problem', async () => {
    expect(await build('tls-nocert.yaml', '{ cert_file: tls/none.pem, key_file: tls/a.key }')).toThrow(expect.objectContaining({ code: 'DCIM_E_CONFIG_UNREADABLE' }));
    const file = await configFile('tls-half.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ":memory:" }\nhttp: { listen: '127.0.0.1:0', token: { env: TOK }, tls: { cert_file: tls/a.pem } }\n`);
    expect(problems(() => loadCollectorConfig(file))).toEqual([expect.stringMatching(/http\.tls\.key_file: /)]);
  });
});

describe('store URLs carry no credentials', () => {
  it.each(['http://admin:s3cret@127.0.0.1:8086', 'https://token@influx.example:8086'])('%s is refused, the secret not repeated', async (url) => {
    const file = await configFile('url-creds.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1883' }\nstore: { kind: influx_v1, url: '${url}', database: dcim }\n`);
    const p = problems(() => loadCollectorConfig(file));
    expect(p).toEqual([`${file}: store.url: credentials in the URL: give username and password (or token) as settings, the secret as { env } or { file }`]);
  });

  it('an @ in the path or query is not a credential', async () => {
    const file = await configFile('url-at.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1883' }\nstore: { kind: influx_v2, url: 'http://127.0.0.1:8086/x@y?a=b@c', org: o, bucket: b, token: { env: T } }\n`);
    expect(loadCollectorConfig(file).config.store).toMatchObject({ url: 'http://127.0.0.1:8086/x@y?a=b@c' });
  });
});

describe('federation.publish_summaries: the site summaries for a bureau', () => {
  const build = async (name: string, federation: string) => {
    const file = await configFile(name, `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ":memory:" }\n${federation}`);
    return loadCollectorConfig(file);
  };

  it('is on by default and off when set so; the collector builds its publisher accordingly', async () => {
    for (const [federation, on] of [['', true], ['federation: { publish_summaries: false }\n', false]] as const) {
      const setup = await build(`federation-${on}.yaml`, federation);
      expect(setup.config.federation).toEqual({ publish_summaries: on });
      const { collector, sink } = createCollectorFromConfig(setup, { clock: new ManualClock(), logger: memoryLogger() });
      expect(collector.stats().summaries !== undefined).toBe(on);
      await sink.close();
    }
  });

  it('refuses a wrong type or an unknown key under federation', async () => {
    const file = await configFile('federation-bad.yaml', `collector: { id: main, sites: [${DEMO_SEED}] }\nmqtt: { url: 'mqtt://127.0.0.1:1' }\nstore: { kind: sqlite, path: ":memory:" }\nfederation: { publish_summaries: "yes", publish_sumaries: true }\n`);
    const p = problems(() => loadCollectorConfig(file));
    expect(p).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${file}: federation\\.publish_summaries: `)), expect.stringMatching(new RegExp(`^${file}: federation: .*publish_sumaries`))]));
  });
});
