import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { BRIDGE_CONNECTION, bridgeConfig, bridgeStateTopic, bridgeUser, bureauAcl, command } from '../../../cli/commands/broker-config.js';
import { ClustersFileSchema } from '../../../contract/inventory.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { REPO_ROOT } from '../../support/repo-path.js';

/**
 * `dcim broker-config --bureau` and `--bridge`: the bureau broker's ACL (one bridge.<site> user per
 * site of the clusters file, writing that site's summaries only) on a real mosquitto running the
 * shipped collector/deploy/mosquitto-bureau.conf, and the site broker's bridge file (the end-to-end
 * run of the bridge is test/e2e/bureau-bridge.test.ts).
 */
const ROOT = REPO_ROOT;
const scratch = mkdtempSync(path.join(tmpdir(), 'dcim-broker-config-bureau-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CLUSTERS = ClustersFileSchema.parse({
  clusters: [
    { id: 'guian', name: "Gui'an", sites: ['north', 'south'] },
    { id: 'guian-ai', name: "Gui'an AI", sites: ['south', 'ai-1'] },
  ],
});
const PASSWORDS: Record<string, string> = { bureau: 'bureau-secret-1', grafana: 'grafana-secret-1', 'bridge.north': 'north-secret-1', 'bridge.south': 'south-secret-2', 'bridge.ai-1': 'ai-secret-3' };

async function dcim(args: string[]): Promise<number> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await command.run(args);
  } finally {
    console.log = log;
  }
}

/** The PUBACK reason code of a QoS 1 publish: 0 accepted, 0x87 not authorized (MQTT 5). */
async function pubackCode(c: MqttClient, topic: string, payload: string, retain = false): Promise<number> {
  try {
    await c.publishAsync(topic, payload, { qos: 1, retain });
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

describe('dcim broker-config --bureau: the ACL', () => {
  it('gives each site bridge.<site>, writing its own summaries and link state only; the bureau and viewers read', () => {
    const { acl, users } = bureauAcl({ clusters: CLUSTERS.clusters, viewers: ['grafana'] });
    expect(users).toEqual(['bureau', 'grafana', 'bridge.north', 'bridge.south', 'bridge.ai-1']);
    const block = (user: string) => acl.split('\n\n').find((b) => b.includes(`user ${user}\n`))!.split('\n').filter((l) => l.startsWith('topic '));
    expect(block('bridge.south')).toEqual(['topic write dcim/v1/south/summary/+', 'topic write $SYS/broker/connection/bridge.south/state']);
    expect(block('bureau')).toEqual(['topic read dcim/v1/+/summary/+', 'topic read $SYS/broker/connection/+/state']);
    expect(block('grafana')).toEqual(block('bureau'));
    // A site in two clusters is one user.
    expect(acl.match(/^user bridge\.south$/gm)).toHaveLength(1);
  });

  it('refuses a viewer or bureau user that is also a site bridge user', () => {
    expect(() => bureauAcl({ clusters: CLUSTERS.clusters, viewers: ['bridge.north'] })).toThrow(/user bridge.north is named twice/);
    expect(() => bureauAcl({ clusters: CLUSTERS.clusters, bureau_user: 'bridge.south' })).toThrow(/user bridge.south is named twice/);
  });

  it('bridgeUser cannot be a site, agent or cluster id (ids hold no dot)', () => {
    expect(bridgeUser('north')).toBe('bridge.north');
    expect(bridgeStateTopic('north')).toBe('$SYS/broker/connection/bridge.north/state');
  });
});

describe('dcim broker-config --bureau on a real mosquitto with the shipped bureau config', () => {
  const out = path.join(scratch, 'bureau');
  let config: string[] = [];
  const broker = useService('mosquitto', async () => {
    const passwords = path.join(scratch, 'passwords');
    mkdirSync(passwords, { recursive: true, mode: 0o700 });
    for (const [user, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(passwords, user), `${pw}\n`, { mode: 0o600 });
    const clusters = path.join(scratch, 'clusters.json');
    writeFileSync(clusters, JSON.stringify(CLUSTERS));
    expect(await dcim(['--bureau', '--clusters', clusters, '--viewer', 'grafana', '--password-dir', passwords, '--out', out])).toBe(0);
    // The shipped file without its listeners and TLS (test/e2e/bureau-bridge.test.ts runs it with TLS).
    config = readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-bureau.conf'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !/^(listener|cafile|certfile|keyfile|tls_version|require_certificate)\b/.test(l))
      .map((l) => l.replace('/etc/mosquitto/dcim-bureau/', `${out}/`));
    return startMosquitto({ config });
  });
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });
  const connect = async (user: string, clientId = `t-${user}-${clients.length}`): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker().url, { protocolVersion: 5, clientId, reconnectPeriod: 0, username: user, password: PASSWORDS[user]! });
    clients.push(c);
    return c;
  };

  it('ships allow_anonymous false and the generated files, and writes the password file 0600 without a password in it', () => {
    expect(config).toEqual(expect.arrayContaining(['allow_anonymous false', 'persistence true', `password_file ${out}/passwd`, `acl_file ${out}/acl`]));
    expect(statSync(path.join(out, 'passwd')).mode & 0o777).toBe(0o600);
    const passwd = readFileSync(path.join(out, 'passwd'), 'utf8');
    expect(passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(Object.keys(PASSWORDS));
    expect(passwd).not.toContain('secret');
  });

  it("lets site north write its own summaries and nothing else; site south's summaries stay south's", async () => {
    const bureau = await connect('bureau');
    const seen: string[] = [];
    bureau.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await bureau.subscribeAsync([topics.filters.summary(), '$SYS/broker/connection/+/state'], { qos: 1 });
    const north = await connect('bridge.north');

    expect(await pubackCode(north, topics.summary('north', '15m'), 'north-15m', true)).toBe(0);
    expect(await pubackCode(north, topics.summary('north', '1mo'), 'north-1mo', true)).toBe(0);
    expect(await pubackCode(north, bridgeStateTopic('north'), '1', true)).toBe(0);
    // Another site's summaries, its link state, telemetry, KPI, alerts: 0x87 not authorized.
    expect(await pubackCode(north, topics.summary('south', '15m'), 'forged', true)).toBe(0x87);
    expect(await pubackCode(north, topics.summary('ai-1', '1h'), 'forged', true)).toBe(0x87);
    expect(await pubackCode(north, bridgeStateTopic('south'), '0', true)).toBe(0x87);
    expect(await pubackCode(north, topics.telemetry('north', 'edge-1', 'pdu-1'), '{}')).toBe(0x87);
    expect(await pubackCode(north, topics.kpi('north'), '{}')).toBe(0x87);
    expect(await pubackCode(north, topics.alert('north', 'a1'), '{}')).toBe(0x87);
    // The bureau itself publishes nothing.
    expect(await pubackCode(bureau, topics.summary('north', '15m'), 'from-bureau')).toBe(0x87);
    // A bridge reads nothing. mosquitto 2.0 grants the subscription and checks read access per
    // message: the retained summaries, sent on one connection before the next SUBACK, never come.
    const northGot: string[] = [];
    north.on('message', (topic) => northGot.push(topic));
    await north.subscribeAsync([topics.filters.summary(), '$SYS/broker/connection/+/state'], { qos: 1 });
    await north.subscribeAsync('dcim/v1/north/#', { qos: 1 });
    await north.subscribeAsync('probe/nothing', { qos: 1 });
    expect(northGot).toEqual([]);

    const south = await connect('bridge.south');
    expect(await pubackCode(south, topics.summary('south', '1h'), 'south-1h', true)).toBe(0);
    await until('what the ACL allowed', () => seen.length === 4, 60_000, () => seen.join('\n'));
    expect(seen.sort()).toEqual([`${bridgeStateTopic('north')} 1`, `${topics.summary('north', '15m')} north-15m`, `${topics.summary('north', '1mo')} north-1mo`, `${topics.summary('south', '1h')} south-1h`].sort());

    // A viewer reads, retained, what the bridges left.
    const grafana = await connect('grafana');
    const retained: string[] = [];
    grafana.on('message', (topic, payload, packet) => packet.retain && retained.push(`${topic} ${payload.toString()}`));
    await grafana.subscribeAsync(topics.filters.summary(), { qos: 1 });
    await until('the retained summaries', () => retained.length === 3, 60_000, () => retained.join('\n'));
    expect(retained.sort()).toEqual([`${topics.summary('north', '15m')} north-15m`, `${topics.summary('north', '1mo')} north-1mo`, `${topics.summary('south', '1h')} south-1h`].sort());
  });

  it("one site cannot push another's bridge off by taking its client id (use_username_as_clientid)", async () => {
    const north = await connect('bridge.north', 'bridge.north');
    let closed = false;
    north.on('close', () => (closed = true));
    const impostor = await connect('bridge.south', 'bridge.north');
    // South's session runs as bridge.south: north's own session is untouched and still publishes.
    expect(await pubackCode(impostor, topics.summary('south', '15m'), 'south-as-itself')).toBe(0);
    let code: number | undefined;
    void pubackCode(north, topics.summary('north', '1h'), 'north-still-here').then((c) => (code = c));
    await until("north's publish answered, or north pushed off", () => code !== undefined || closed);
    expect({ closed, code }).toEqual({ closed: false, code: 0 });
  });
});

describe('dcim broker-config --bridge: the site broker bridge file', () => {
  const dir = path.join(scratch, 'bridge');
  mkdirSync(dir, { recursive: true });
  const pwFile = path.join(dir, 'bridge-password');
  writeFileSync(pwFile, 'north-secret-1\n', { mode: 0o600 });
  const base = ['--bridge', '--site', 'north', '--bureau-address', 'bureau.example.cn:8883', '--bureau-ca', '/etc/mosquitto/dcim/bureau-ca.pem'];

  it('writes bureau-bridge.conf 0600 with the password read from its file, the summary topics only, out', async () => {
    expect(await dcim([...base, '--bureau-address', '[2001:db8::7]:8883', '--remote-password-file', pwFile, '--out', path.join(dir, 'out')])).toBe(0);
    const file = path.join(dir, 'out', 'bureau-bridge.conf');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(
      expect.arrayContaining([
        `connection ${BRIDGE_CONNECTION}`,
        'address bureau.example.cn:8883 2001:db8::7:8883',
        'remote_username bridge.north',
        'remote_password north-secret-1',
        'remote_clientid bridge.north',
        'cleansession false',
        'local_cleansession false',
        'bridge_protocol_version mqttv50',
        'bridge_cafile /etc/mosquitto/dcim/bureau-ca.pem',
        'topic dcim/v1/north/summary/+ out 1',
      ]),
    );
    expect(lines.filter((l) => l.startsWith('topic '))).toHaveLength(1);
  });

  it('is what the shipped template shows, line for line (the template only comments out the password)', () => {
    const generated = bridgeConfig({ site: 'guian-north', addresses: ['bureau.example.cn:8883'], ca_file: '/etc/mosquitto/dcim/bureau-ca.pem', auth: { password: 'x' }, retry_s: { base: 5, cap: 60 } })
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('remote_password '));
    const template = readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-bureau-bridge.conf'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(template).toEqual(generated);
  });

  it('with a client certificate: no user or password, the certificate and key', async () => {
    expect(await dcim([...base, '--bridge-cert', '/etc/mosquitto/dcim/bridge.pem', '--bridge-key', '/etc/mosquitto/dcim/bridge.key', '--out', path.join(dir, 'cert')])).toBe(0);
    const text = readFileSync(path.join(dir, 'cert', 'bureau-bridge.conf'), 'utf8');
    expect(text).toContain('bridge_certfile /etc/mosquitto/dcim/bridge.pem\nbridge_keyfile /etc/mosquitto/dcim/bridge.key\n');
    expect(text).not.toMatch(/remote_username|remote_password/);
  });

  it('refuses a password file others may read, an empty one, or one mosquitto.conf cannot hold, and writes nothing', async () => {
    const wide = path.join(dir, 'wide');
    writeFileSync(wide, 'north-secret-1\n');
    chmodSync(wide, 0o644);
    await expect(dcim([...base, '--remote-password-file', wide, '--out', path.join(dir, 'refused')])).rejects.toMatchObject({ code: 'DCIM_E_SECRET_FILE_INSECURE' });
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n', { mode: 0o600 });
    await expect(dcim([...base, '--remote-password-file', empty, '--out', path.join(dir, 'refused')])).rejects.toMatchObject({ code: 'DCIM_E_SECRET_MISSING' });
    const spaced = path.join(dir, 'spaced');
    writeFileSync(spaced, 'two words\n', { mode: 0o600 });
    await expect(dcim([...base, '--remote-password-file', spaced, '--out', path.join(dir, 'refused')])).rejects.toMatchObject({ code: 'DCIM_E_CONFIG_INVALID' });
    await expect(dcim([...base, '--remote-password-file', path.join(dir, 'absent'), '--out', path.join(dir, 'refused')])).rejects.toMatchObject({ code: 'DCIM_E_SECRET_MISSING' });
    expect(() => statSync(path.join(dir, 'refused'))).toThrow();
  });

  it('refuses what would write a wrong or partial bridge (DCIM_E_CLI_USAGE)', async () => {
    const usage = (args: string[]) => expect(dcim(args)).rejects.toMatchObject({ code: 'DCIM_E_CLI_USAGE' });
    await usage(['--bridge', '--bureau-address', 'b:8883', '--bureau-ca', 'ca.pem', '--remote-password-file', pwFile, '--out', dir]);
    await usage([...base, '--out', dir]);
    await usage([...base, '--remote-password-file', pwFile, '--bridge-cert', 'c.pem', '--bridge-key', 'k.pem', '--out', dir]);
    await usage([...base, '--bridge-cert', 'c.pem', '--out', dir]);
    await usage(['--bridge', '--site', 'North', '--bureau-address', 'b:8883', '--bureau-ca', 'ca.pem', '--remote-password-file', pwFile, '--out', dir]);
    await usage(['--bridge', '--site', 'north', '--bureau-address', 'b', '--bureau-ca', 'ca.pem', '--remote-password-file', pwFile, '--out', dir]);
    await usage(['--bridge', '--site', 'north', '--bureau-address', 'b:8883', '--remote-password-file', pwFile, '--out', dir]);
    await usage([...base, '--remote-password-file', pwFile, '--retry-s', '60:5', '--out', dir]);
    await usage([...base, '--remote-password-file', pwFile, '--inventory', 'site.yaml', '--out', dir]);
    await usage(['--bridge', '--bureau', '--out', dir]);
    await usage(['--bureau', '--out', dir, '--password-dir', dir]);
  });
});
