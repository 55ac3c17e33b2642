import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { bridgeStateTopic, command } from '../../cli/commands/broker-config.js';
import { topics } from '../../contract/topics.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { makeTestCertificates } from '../support/test-ca.js';
import { until } from '../support/until.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSWORDS: Record<string, string> = { bureau: 'bureau-secret-1', dashboard: 'dashboard-secret-3', 'bridge.north': 'north-bridge-secret-1', 'bridge.south': 'south-bridge-secret-2' };

async function dcim(args: string[]): Promise<void> {
  const log = console.log;
  console.log = () => undefined;
  try {
    expect(await command.run(args)).toBe(0);
  } finally {
    console.log = log;
  }
}

/** The shipped config's lines without comments, listeners (the launcher opens its own) and with deployment paths moved to `map`. */
function shipped(file: string, map: (line: string) => string | undefined): string[] {
  return readFileSync(path.join(ROOT, 'collector/deploy', file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('listener '))
    .flatMap((l) => map(l) ?? []);
}

interface Pair {
  bureau: () => Mosquitto;
  site: () => Mosquitto;
  dir: string;
}

/**
 * A bureau broker (the shipped conf on a TLS loopback listener, its ACL and passwords from --bureau)
 * and a site broker (the shipped site conf and `extra`) including the bridge --bridge wrote. With
 * `identity: 'certificate'` the bureau takes client certificates as user names and the bridge
 * presents the certificate of CN bridge.north instead of a password.
 */
function bridgedPair(opts: { extra?: readonly string[]; identity?: 'password' | 'certificate' } = {}): Pair {
  const dir = mkdtempSync(path.join(tmpdir(), 'dcim-bureau-bridge-'));
  const byCertificate = opts.identity === 'certificate';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bureau = useService('mosquitto', async () => {
    makeTestCertificates(dir, byCertificate ? ['bureau', 'bridge.north'] : []);
    const clusters = path.join(dir, 'clusters.json');
    writeFileSync(clusters, JSON.stringify({ clusters: [{ id: 'guian', name: "Gui'an", targets: {}, sites: ['north', 'south'] }] }));
    const passwords = path.join(dir, 'passwords');
    mkdirSync(passwords, { mode: 0o700 });
    for (const [user, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(passwords, user), `${pw}\n`, { mode: 0o600 });
    await dcim(['--bureau', '--clusters', clusters, '--viewer', 'dashboard', ...(byCertificate ? ['--identity', 'certificate'] : ['--password-dir', passwords]), '--out', path.join(dir, 'bureau')]);
    const config = shipped('mosquitto-bureau.conf', (l) => {
      if (byCertificate && l.startsWith('password_file ')) return undefined;
      if (byCertificate && l === 'require_certificate false') return 'require_certificate true\nuse_identity_as_username true';
      return l.replace('/etc/mosquitto/dcim-bureau/passwd', `${dir}/bureau/passwd`).replace('/etc/mosquitto/dcim-bureau/acl', `${dir}/bureau/acl`).replace('/etc/mosquitto/dcim-bureau/', `${dir}/`);
    });
    return startMosquitto({ config: config.flatMap((l) => l.split('\n')) });
  });
  const site = useService('mosquitto', async () => {
    const auth = byCertificate ? ['--bridge-cert', path.join(dir, 'bridge.north.pem'), '--bridge-key', path.join(dir, 'bridge.north.key')] : ['--remote-password-file', path.join(dir, 'passwords', 'bridge.north')];
    await dcim(['--bridge', '--site', 'north', '--bureau-address', `127.0.0.1:${bureau().port}`, '--bureau-ca', path.join(dir, 'ca.pem'), ...auth, '--retry-s', '1:1', '--out', path.join(dir, 'conf.d')]);
    return startMosquitto({ config: [...shipped('mosquitto-dcim.conf', (l) => l), ...(opts.extra ?? []), `include_dir ${dir}/conf.d`] });
  });
  return { bureau, site, dir };
}

const summary = (w: '15m' | '1h' | '1d' | '1mo') => topics.summary('north', w);

/** A client that records what it receives as `topic payload`, and retained ones with a trailing ` (retained)`. */
async function recorder(url: string, opts: mqtt.IClientOptions, filters: string[], clients: MqttClient[]): Promise<{ client: MqttClient; got: string[] }> {
  const got: string[] = [];
  // A reconnection that lands on a broker as it shuts down gets no CONNACK: give up on it quickly
  // and try again, rather than after mqtt.js's default 30 s.
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100, connectTimeout: 2_000, ...opts });
  clients.push(client);
  client.on('message', (t, p, pk) => got.push(`${t} ${p.toString()}${pk.retain ? ' (retained)' : ''}`));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, got };
}

const series = (topic: string, prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${topic} ${prefix}${i + 1}`);

/**
 * The summaries `<prefix>1..n` on `topic` in the order they first arrived, the last one moved to
 * the end. mosquitto's bridge re-sends the retained (latest) message of each of its topics at every
 * connection, and at reconnection that copy may overtake the queue after the first in-flight
 * window; the queue itself drains in publication order.
 */
function arrivals(got: readonly string[], topic: string, prefix: string, n: number): string[] {
  const last = `${topic} ${prefix}${n}`;
  const firsts = [...new Set(got.filter((g) => g.startsWith(`${topic} ${prefix}`)))];
  return firsts.includes(last) ? [...firsts.filter((g) => g !== last), last] : firsts;
}

describe('site broker → bureau broker over the bridge dcim broker-config --bridge writes', () => {
  const pair = bridgedPair();
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });
  const tls = () => ({ ca: readFileSync(path.join(pair.dir, 'ca.pem')) });
  const bureauUrl = () => `mqtts://127.0.0.1:${pair.bureau().port}`;
  /** The bureau collector: a persistent session, so what arrives while it reconnects waits for it. */
  const bureauCollector = () => recorder(bureauUrl(), { clientId: 'bureau', username: 'bureau', password: PASSWORDS.bureau!, clean: false, properties: { sessionExpiryInterval: 3600 }, ...tls() }, [topics.filters.summary(), '$SYS/broker/connection/+/state'], clients);
  const siteCollector = () => recorder(pair.site().url, { clientId: 'site-collector' }, [bridgeStateTopic('north')], clients);
  let bureau: Awaited<ReturnType<typeof bureauCollector>>;
  let site: Awaited<ReturnType<typeof siteCollector>>;
  const lastState = (got: string[]) => got.filter((g) => g.startsWith(bridgeStateTopic('north'))).at(-1)?.split(' ')[1];

  it("carries the site's summaries up, retained at the bureau, and nothing else", async () => {
    bureau = await bureauCollector();
    site = await siteCollector();
    await until('the bridge announced its link at the bureau', () => lastState(bureau.got) === '1', 60_000, () => pair.site().logTail());
    for (const w of ['15m', '1h', '1d', '1mo'] as const) await site.client.publishAsync(summary(w), `first-${w}`, { qos: 1, retain: true });
    // What must stay on the site: telemetry, the live KPI, an alert, another site's summary topic.
    await site.client.publishAsync(topics.telemetry('north', 'edge-1', 'pdu-1'), '{}', { qos: 1 });
    await site.client.publishAsync(topics.kpi('north'), '{}', { qos: 1, retain: true });
    await site.client.publishAsync(topics.alert('north', 'a1'), '{}', { qos: 1 });
    await site.client.publishAsync(topics.summary('south', '15m'), 'not-mine', { qos: 1, retain: true });
    await site.client.publishAsync(summary('15m'), 'marker', { qos: 1, retain: true });
    await until('the marker at the bureau', () => bureau.got.includes(`${summary('15m')} marker`), 60_000, () => bureau.got.join('\n'));
    expect(bureau.got.filter((g) => g.startsWith('dcim/'))).toEqual([...(['15m', '1h', '1d', '1mo'] as const).map((w) => `${summary(w)} first-${w}`), `${summary('15m')} marker`]);

    // A client that subscribes now gets the latest summary of each window, retained. A viewer, not a
    // second `bureau` login: client ids are user names on the bureau broker, so that would take
    // over the bureau collector's session.
    const late = await recorder(bureauUrl(), { clientId: 'late', username: 'dashboard', password: PASSWORDS.dashboard!, ...tls() }, [topics.filters.summary()], clients);
    await until('the retained summaries', () => late.got.length === 4, 60_000, () => late.got.join('\n'));
    expect(late.got.sort()).toEqual([`${summary('15m')} marker (retained)`, `${summary('1d')} first-1d (retained)`, `${summary('1h')} first-1h (retained)`, `${summary('1mo')} first-1mo (retained)`]);
    await late.client.endAsync(true);
  });

  it('queues the summaries published while the bureau is down and delivers every one when it is back', async () => {
    bureau.got.length = 0;
    await pair.bureau().halt();
    await until('the site saw its link drop', () => lastState(site.got) === '0', 60_000, () => site.got.join('\n'));
    const N = 30;
    for (let i = 1; i <= N; i++) await site.client.publishAsync(summary('15m'), `cut-${i}`, { qos: 1, retain: true });
    await pair.bureau().restart();
    await until('the site saw its link back', () => lastState(site.got) === '1', 60_000, () => pair.site().logTail());
    await site.client.publishAsync(summary('15m'), 'after-cut', { qos: 1, retain: true });
    await until('the summary published after the cut', () => bureau.got.includes(`${summary('15m')} after-cut`), 60_000, () => `connected: ${bureau.client.connected}\n${bureau.got.join('\n')}`);
    expect(arrivals(bureau.got, summary('15m'), 'cut-', N)).toEqual(series(summary('15m'), 'cut-', N));
  }, 150_000);

  it("keeps the queue over a restart of the site broker (persistence)", async () => {
    bureau.got.length = 0;
    await pair.bureau().halt();
    await until('the site saw its link drop', () => lastState(site.got) === '0', 60_000, () => site.got.join('\n'));
    for (let i = 1; i <= 10; i++) await site.client.publishAsync(summary('1h'), `before-restart-${i}`, { qos: 1, retain: true });
    await pair.site().restart();
    await until('the site collector reconnected', () => site.client.connected, 60_000);
    for (let i = 1; i <= 10; i++) await site.client.publishAsync(summary('1h'), `after-restart-${i}`, { qos: 1, retain: true });
    await pair.bureau().restart();
    await until('the site saw its link back', () => lastState(site.got) === '1', 60_000, () => pair.site().logTail());
    await site.client.publishAsync(summary('1h'), 'marker-2', { qos: 1, retain: true });
    await until('the marker', () => bureau.got.includes(`${summary('1h')} marker-2`), 60_000, () => bureau.got.join('\n'));
    expect(arrivals(bureau.got, summary('1h'), 'before-restart-', 10)).toEqual(series(summary('1h'), 'before-restart-', 10));
    expect(arrivals(bureau.got, summary('1h'), 'after-restart-', 10)).toEqual(series(summary('1h'), 'after-restart-', 10));
  }, 150_000);
});

describe('the bound: a site broker with max_queued_messages 5', () => {
  const pair = bridgedPair({ extra: ['max_queued_messages 5'] });
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });

  it('keeps the oldest 5 of what the outage queued, drops the newer ones, and still delivers the latest (retained) summary', async () => {
    const bureau = await recorder(`mqtts://127.0.0.1:${pair.bureau().port}`, { clientId: 'bureau', username: 'bureau', password: PASSWORDS.bureau!, clean: false, properties: { sessionExpiryInterval: 3600 }, ca: readFileSync(path.join(pair.dir, 'ca.pem')) }, [topics.filters.summary()], clients);
    const site = await recorder(pair.site().url, { clientId: 'site-collector' }, [bridgeStateTopic('north')], clients);
    const lastState = () => site.got.filter((g) => g.startsWith(bridgeStateTopic('north'))).at(-1)?.split(' ')[1];
    await until('the link up', () => lastState() === '1', 60_000, () => pair.site().logTail());
    await pair.bureau().halt();
    await until('the link down', () => lastState() === '0', 60_000);
    // mosquitto.conf: max_queued_messages is the count held per client (here the bridge's local session); the rest are dropped.
    for (let i = 1; i <= 8; i++) await site.client.publishAsync(summary('15m'), `b-${i}`, { qos: 1, retain: true });
    await pair.bureau().restart();
    await until('the link up again', () => lastState() === '1', 60_000);
    await site.client.publishAsync(summary('15m'), 'after', { qos: 1, retain: true });
    await until('the summary published after the outage', () => bureau.got.includes(`${summary('15m')} after`), 60_000, () => bureau.got.join('\n'));
    expect(arrivals(bureau.got, summary('15m'), 'b-', 8)).toEqual([...series(summary('15m'), 'b-', 5), `${summary('15m')} b-8`]);
  }, 60_000);
});

describe('the bridge with a client certificate (CN bridge.north) instead of a password', () => {
  const pair = bridgedPair({ identity: 'certificate' });
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });

  it("carries the site's summaries up and nothing else", async () => {
    const pem = (name: string) => readFileSync(path.join(pair.dir, name));
    const bureau = await recorder(`mqtts://127.0.0.1:${pair.bureau().port}`, { clientId: 'bureau', ca: pem('ca.pem'), cert: pem('bureau.pem'), key: pem('bureau.key') }, [topics.filters.summary(), '$SYS/broker/connection/+/state'], clients);
    const site = await recorder(pair.site().url, { clientId: 'site-collector' }, [bridgeStateTopic('north')], clients);
    await until('the bridge announced its link at the bureau', () => bureau.got.some((g) => g.startsWith(`${bridgeStateTopic('north')} 1`)), 60_000, () => pair.site().logTail() + pair.bureau().logTail());
    await site.client.publishAsync(topics.telemetry('north', 'edge-1', 'pdu-1'), '{}', { qos: 1 });
    await site.client.publishAsync(summary('1d'), 'by-certificate', { qos: 1, retain: true });
    await until('the summary at the bureau', () => bureau.got.includes(`${summary('1d')} by-certificate`), 60_000, () => bureau.got.join('\n'));
    expect(bureau.got.filter((g) => g.startsWith('dcim/'))).toEqual([`${summary('1d')} by-certificate`]);
  });
});
