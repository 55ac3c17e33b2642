import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../../support/find-binary.js';
import type { Launched } from '../../support/local-service.js';

/**
 * Real peers for the agent's protocol tests, on 127.0.0.1 only: snmpsimd, snmpd and a pymodbus
 * server. They use the project's one skip-or-fail policy (test/support/require-service.ts): a
 * missing tool is a visible skip, or a failure when DCIM_REQUIRE_SERVICES=1 (CI).
 */
export { useService } from '../../support/require-service.js';

export interface Service {
  stop(): Promise<void>;
}

const unavailable = (service: string, reason: string): Launched<never> => ({ ok: false, reason: { service, reason } });

function findExecutable(candidates: readonly string[]): string | undefined {
  const r = findBinary(candidates);
  return r.ok ? r.value : undefined;
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address() as net.AddressInfo;
      srv.close(() => resolve(a.port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Ask for one OID until the simulator answers (it takes a second or two to index recordings). */
async function waitForSnmp(port: number, community: string, deadlineMs: number): Promise<boolean> {
  const { createNetSnmpTransport } = await import('../../../agent/snmp/net-snmp-transport.js');
  const t = createNetSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port, version: '2c', community }, { timeoutMs: 250 });
  try {
    while (Date.now() < deadlineMs) {
      const r = await t.get(['1.3.6.1.2.1.1.2.0']);
      if (r.ok) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  } finally {
    t.close();
  }
}

export interface Snmpsim extends Service {
  port: number;
}

/**
 * snmpsimd (Debian package snmpsim) serving `.snmprec` recordings; each file's name is its
 * community. Running as root it must drop to nobody, so its folders are world-readable.
 */
export async function startSnmpsim(recordings: Record<string, string>): Promise<Launched<Snmpsim>> {
  const bin = findExecutable(['snmpsimd', 'snmpsimd.py', 'snmpsim-command-responder']);
  if (!bin) return unavailable('snmpsimd', 'snmpsimd not found (apt-get install snmpsim)');
  const dir = mkdtempSync(join(tmpdir(), 'dcim-snmpsim-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  spawnSync('mkdir', ['-p', data, cache]);
  for (const [community, text] of Object.entries(recordings)) writeFileSync(join(data, `${community}.snmprec`), text);
  for (const p of [dir, data, cache]) chmodSync(p, 0o777);
  const port = await freeUdpPort();
  const root = process.getuid?.() === 0;
  const child = spawn(
    bin,
    [`--data-dir=${data}`, `--cache-dir=${cache}`, `--agent-udpv4-endpoint=127.0.0.1:${port}`, '--logging-method=null', ...(root ? ['--process-user=nobody', '--process-group=nogroup'] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const community = Object.keys(recordings)[0] as string;
  if (!(await waitForSnmp(port, community, Date.now() + 15_000))) {
    await stop();
    throw new Error(`snmpsimd did not answer on 127.0.0.1:${port}: ${stderr.slice(-500)}`);
  }
  return { ok: true, value: { port, stop } };
}

/** A python3 that can import pymodbus (Debian's python3-pymodbus lives under /usr/bin/python3). */
export function findPymodbusPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import pymodbus, sys; sys.stdout.write(pymodbus.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

export interface PymodbusServer extends Service {
  tcpPort: number;
  rtuPort: number;
}

/** test/agent/fixtures/modbus-server.py: the SDM630 layout on several unit ids (see the script). */
export async function startPymodbus(): Promise<Launched<PymodbusServer>> {
  const py = findPymodbusPython();
  if (!py) return unavailable('pymodbus', 'no python3 with pymodbus (apt-get install python3-pymodbus)');
  const script = join(import.meta.dirname, '..', 'fixtures', 'modbus-server.py');
  const child = spawn(py, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const ports = await new Promise<{ tcp: number; rtu: number } | undefined>((resolve) => {
    let out = '';
    const t = setTimeout(() => resolve(undefined), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY tcp=(\d+) rtu=(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ tcp: Number(m[1]), rtu: Number(m[2]) });
      }
    });
    child.once('exit', () => resolve(undefined));
  });
  if (!ports) {
    await stopChild(child);
    throw new Error(`modbus-server.py did not start: ${stderr.slice(-800)}`);
  }
  return { ok: true, value: { tcpPort: ports.tcp, rtuPort: ports.rtu, stop: () => stopChild(child) } };
}

export interface Snmpd extends Service {
  port: number;
}

/**
 * Net-SNMP's snmpd on a free loopback port with a throw-away config: the system group, the
 * interfaces table, a v2c community and one SNMPv3 authPriv user (`v3User`).
 */
export const SNMPD_V3 = { user: 'dcimv3', auth: 'auth-pass-123', priv: 'priv-pass-123', community: 'dcim-public' } as const;

/**
 * More SNMPv3 users, one per security level and protocol family the agent supports, with the
 * same passphrases as SNMPD_V3. Net-SNMP's `AES-256` localises the key the Blumenthal way (the
 * agent's `aes256b`), `AES-256-C` the Reeder/Cisco way (`aes256r`).
 */
export const SNMPD_V3_USERS = [
  { user: 'v3-none', level: 'noauth', create: '' },
  { user: 'v3-sha1-auth', level: 'auth', create: 'SHA "auth-pass-123"' },
  { user: 'v3-sha224-aes', level: 'priv', create: 'SHA-224 "auth-pass-123" AES "priv-pass-123"' },
  { user: 'v3-sha384-aes', level: 'priv', create: 'SHA-384 "auth-pass-123" AES "priv-pass-123"' },
  { user: 'v3-sha512-aes256b', level: 'priv', create: 'SHA-512 "auth-pass-123" AES-256 "priv-pass-123"' },
  { user: 'v3-sha512-aes256r', level: 'priv', create: 'SHA-512 "auth-pass-123" AES-256-C "priv-pass-123"' },
  { user: 'v3-md5-aes', level: 'priv', create: 'MD5 "auth-pass-123" AES "priv-pass-123"' },
  // The two AES-256 key localisations differ only when the auth hash is shorter than the key (MD5, SHA-1).
  { user: 'v3-sha1-aes256b', level: 'priv', create: 'SHA "auth-pass-123" AES-256 "priv-pass-123"' },
  { user: 'v3-sha1-aes256r', level: 'priv', create: 'SHA "auth-pass-123" AES-256-C "priv-pass-123"' },
] as const;

export async function startSnmpd(): Promise<Launched<Snmpd>> {
  const bin = findExecutable(['snmpd']);
  if (!bin) return unavailable('snmpd', 'snmpd not found (apt-get install snmpd)');
  const dir = mkdtempSync(join(tmpdir(), 'dcim-snmpd-'));
  const conf = join(dir, 'snmpd.conf');
  writeFileSync(
    conf,
    [
      `[snmpd] persistentDir ${join(dir, 'persist')}`,
      `createUser ${SNMPD_V3.user} SHA256 "${SNMPD_V3.auth}" AES "${SNMPD_V3.priv}"`,
      `rouser ${SNMPD_V3.user} authPriv`,
      ...SNMPD_V3_USERS.flatMap((u) => [`createUser ${u.user} ${u.create}`.trim(), `rouser ${u.user} ${u.level}`]),
      `rocommunity ${SNMPD_V3.community} 127.0.0.1`,
      'sysName snmpd-under-test',
      'sysLocation dcim-pulse test rack',
      '',
    ].join('\n'),
  );
  const port = await freeUdpPort();
  const child = spawn(bin, ['-f', '-Lo', '-C', '-c', conf, '-p', join(dir, 'pid'), `udp:127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForSnmp(port, SNMPD_V3.community, Date.now() + 10_000))) {
    await stop();
    throw new Error(`snmpd did not answer on 127.0.0.1:${port}: ${out.slice(-500)}`);
  }
  return { ok: true, value: { port, stop } };
}
