import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SiteInventorySchema, type SiteInventory } from '../contract/index.js';
import { memoryLogger } from '../shared/log.js';
import { GUIAN, bigSite, type HallSpec } from '../seeds/generate.js';
import { startSimSite, type SimEndpoint } from '../simulators/index.js';
import { mbapFrame } from '../simulators/servers/modbus-framing.js';

/**
 * The simulator at scale, measured from outside: a child process serves a generated Gui'an-like
 * site of N halls (20 halls ≈ 10,000 devices) and reports its start time, RSS and CPU; this
 * process sends it SNMP v2c GETs and GETBULKs, SNMPv3 authPriv GETs and Modbus TCP and RTU reads,
 * and prints the simulator's CPU per 1,000 requests and the rate reached.
 *
 *   npx tsx bench/sim-scale.ts [halls=20] [requests per kind=5000]
 *
 * Not a test: the numbers depend on the machine. Client work runs in this process, so the child's
 * CPU is the server's own.
 */

interface Started {
  devices: number;
  served: number;
  listeners: number;
  start_ms: number;
  start_cpu_ms: number;
  rss_mb: number;
  heap_mb: number;
  endpoints: SimEndpoint[];
}

interface Usage {
  cpu_ms: number;
  rss_mb: number;
}

const HALLS = Number(process.argv[2] ?? 20);
const REQUESTS = Number(process.argv[3] ?? 5000);

function inventory(halls: number): SiteInventory {
  const list: HallSpec[] = Array.from({ length: halls }, (_, h) => ({ ...GUIAN.halls[h % 2]!, id: `h${h + 1}`, name: `Hall ${h + 1}` }));
  const { header: _header, ...body } = bigSite({ ...GUIAN, id: 'scale', halls: list });
  return SiteInventorySchema.parse(body);
}

/** Child: serve the site, answer `usage` and `stop` over IPC. */
async function serve(): Promise<void> {
  const inv = inventory(HALLS);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const site = await startSimSite({ inventory: inv, bind: 'ephemeral', logger: memoryLogger('error') });
  const cpu = process.cpuUsage(cpu0);
  const mem = process.memoryUsage();
  const started: Started = {
    devices: inv.devices.length,
    served: site.deviceIds().length,
    listeners: site.listeners().length,
    start_ms: Math.round(performance.now() - t0),
    start_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    rss_mb: Math.round(mem.rss / 1e6),
    heap_mb: Math.round(mem.heapUsed / 1e6),
    endpoints: site.endpoints(),
  };
  process.send!({ started });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'usage') {
      const c = process.cpuUsage();
      process.send!({ usage: { cpu_ms: (c.user + c.system) / 1000, rss_mb: Math.round(process.memoryUsage().rss / 1e6) } satisfies Usage });
    } else if (m.cmd === 'stop') {
      void site.stop().then(() => process.exit(0));
    }
  });
}

function ask<T>(child: ChildProcess, cmd: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    if (cmd) child.send({ cmd });
  });
}

interface NetSnmpSession {
  get(oids: string[], cb: (e: Error | null, vbs?: unknown[]) => void): void;
  getBulk(oids: string[], nonRepeaters: number, maxRepetitions: number, cb: (e: Error | null, vbs?: unknown[]) => void): void;
  close(): void;
}
const snmp = createRequire(import.meta.url)('net-snmp') as {
  createSession(target: string, community: string, options: object): NetSnmpSession;
  createV3Session(target: string, user: object, options: object): NetSnmpSession;
  Version2c: number;
  SecurityLevel: Record<string, number>;
  AuthProtocols: Record<string, number>;
  PrivProtocols: Record<string, number>;
};

/** Runs `total` requests with `window` in flight; resolves with the failures. */
async function drive(total: number, window: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await one(i).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return failed;
}

const promisify = (fn: (cb: (e: Error | null) => void) => void) => new Promise<void>((resolve, reject) => fn((e) => (e ? reject(e) : resolve())));

/** A v2c GetRequest (BER, RFC 1905) for sysUpTime.0 and one more OID, built by hand so 5,000 communities need no 5,000 sessions. */
function v2cGet(community: string, id: number, oid: string): Buffer {
  const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag, ...(body.length < 128 ? [body.length] : [0x81, body.length])]), body]);
  const arcs = oid.split('.').map(Number);
  const bytes = [arcs[0]! * 40 + arcs[1]!];
  for (const a of arcs.slice(2)) {
    const b = [a & 0x7f];
    for (let x = a >>> 7; x > 0; x >>>= 7) b.unshift((x & 0x7f) | 0x80);
    bytes.push(...b);
  }
  const vb = (o: Buffer) => tlv(0x30, Buffer.concat([tlv(0x06, o), Buffer.from([0x05, 0x00])]));
  const int = (n: number) => tlv(0x02, Buffer.from([(n >> 24) & 0x7f, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]));
  const varbinds = tlv(0x30, Buffer.concat([vb(Buffer.from([0x2b, 6, 1, 2, 1, 1, 3, 0])), vb(Buffer.from(bytes))]));
  const pdu = tlv(0xa0, Buffer.concat([int(id), int(0), int(0), varbinds]));
  return tlv(0x30, Buffer.concat([int(1), tlv(0x04, Buffer.from(community)), pdu]));
}

/** The request id of a v2c Response: the first INTEGER inside the GetResponse PDU (tag 0xa2). */
function responseId(m: Buffer): number {
  const at = m.indexOf(0xa2);
  if (at < 0) return -1;
  let p = at + 1;
  p += m[p]! & 0x80 ? (m[p]! & 0x7f) + 1 : 1;
  if (m[p] !== 0x02) return -1;
  const len = m[p + 1]!;
  let id = 0;
  for (let k = 0; k < len; k++) id = id * 256 + m[p + 2 + k]!;
  return id;
}

/** One GET to each device in turn: every request misses the encoded-values cache. */
async function snmpSweep(eps: SimEndpoint[], total: number): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const waiting = new Map<number, () => void>();
  socket.on('message', (m) => {
    waiting.get(responseId(m))?.();
  });
  const failed = await drive(total, 32, (i) => {
    const e = eps[i % eps.length]!;
    const id = i + 1;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('timeout'));
      }, 2000);
      waiting.set(id, () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      });
      socket.send(v2cGet(e.community!, id, '1.3.6.1.4.1.318.1.1.26.4.3.1.5.1'), e.port, '127.0.0.1');
    });
  });
  socket.close();
  return failed;
}

async function modbusLoad(port: number, units: number[], total: number, rtu: boolean): Promise<number> {
  const socket = new Socket();
  await new Promise<void>((r) => socket.connect(port, '127.0.0.1', () => r()));
  let pending: (() => void) | undefined;
  let got = 0;
  socket.on('data', (d) => {
    got += d.length;
    if (pending && got > 0) {
      got = 0;
      const p = pending;
      pending = undefined;
      p();
    }
  });
  let failed = 0;
  const { rtuFrame } = await import('../simulators/servers/modbus-framing.js');
  for (let i = 0; i < total; i++) {
    const unit = units[i % units.length]!;
    const pdu = Buffer.from(rtu ? [0x04, 0x00, 0x01, 0x00, 0x02] : [0x04, 0x00, 0x00, 0x00, 0x08]);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      pending = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.write(rtu ? rtuFrame(unit, pdu) : mbapFrame(i & 0xffff, unit, pdu));
    });
    if (!ok) failed++;
  }
  socket.destroy();
  return failed;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [String(HALLS), String(REQUESTS), '--serve'], { execArgv: process.execArgv, stdio: 'inherit' });
  const started = await ask<Started>(child, '', 'started');
  console.log(`simulator: ${started.devices} devices in the seed, ${started.served} served on ${started.listeners} ports`);
  console.log(`start: ${started.start_ms} ms wall, ${started.start_cpu_ms} ms CPU; RSS ${started.rss_mb} MB, heap ${started.heap_mb} MB`);

  const eps = started.endpoints;
  const pdus = eps.filter((e) => e.protocol === 'snmp' && e.snmp_version === '2c');
  const v3 = eps.filter((e) => e.protocol === 'snmp' && e.snmp_version === '3');
  const tcp = eps.filter((e) => e.protocol === 'modbus' && e.transport === 'tcp');
  const rtu = eps.filter((e) => e.protocol === 'modbus' && e.transport === 'rtu_over_tcp');
  const bmcs = eps.filter((e) => e.protocol === 'redfish');
  const auth = { authorization: `Basic ${Buffer.from('admin:sim').toString('base64')}` };
  const sessions = pdus.slice(0, 200).map((e) => ({ s: snmp.createSession(`127.0.0.1`, e.community!, { port: e.port, version: snmp.Version2c, timeout: 2000, retries: 0 }) }));
  const v3sessions = v3.slice(0, 40).map((e) =>
    snmp.createV3Session(
      '127.0.0.1',
      { name: e.user, level: snmp.SecurityLevel.authPriv, authProtocol: snmp.AuthProtocols.sha256, authKey: 'sim-auth-key-123', privProtocol: snmp.PrivProtocols.aes, privKey: 'sim-priv-key-123' },
      { port: e.port, context: e.context, timeout: 2000, retries: 1 },
    ),
  );
  // The APC and Raritan PDUs of the seed: sysName, sysUpTime, and the first column of their tables.
  const OIDS = ['1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.3.0', '1.3.6.1.4.1.318.1.1.26.4.3.1.5.1', '1.3.6.1.4.1.318.1.1.26.4.3.1.9.1'];
  const kinds: [string, () => Promise<number>][] = [
    ['SNMP v2c GET, a new device each (cache miss)', () => snmpSweep(pdus, REQUESTS)],
    ['SNMP v2c GET (4 OIDs)', () => drive(REQUESTS, 32, (i) => promisify((cb) => sessions[i % sessions.length]!.s.get(OIDS, cb)))],
    ['SNMP v2c GETBULK (max-repetitions 25)', () => drive(REQUESTS, 32, (i) => promisify((cb) => sessions[i % sessions.length]!.s.getBulk(['1.3.6.1.4.1'], 0, 25, cb)))],
    ['SNMPv3 authPriv GET (SHA-256/AES-128)', () => drive(REQUESTS, 16, (i) => promisify((cb) => v3sessions[i % v3sessions.length]!.get(['1.3.6.1.2.1.33.1.4.1.0'], cb)))],
    ['Modbus TCP FC4 (8 registers)', () => Promise.all(tcp.slice(0, 4).map((e) => modbusLoad(e.port, tcp.filter((x) => x.port === e.port).map((x) => x.unit_id!), Math.ceil(REQUESTS / 4), false))).then((f) => f.reduce((a, b) => a + b, 0))],
    ['Modbus RTU over TCP FC4 (2 registers)', () => Promise.all(rtu.slice(0, 4).map((e) => modbusLoad(e.port, rtu.filter((x) => x.port === e.port).map((x) => x.unit_id!), Math.ceil(REQUESTS / 4), true))).then((f) => f.reduce((a, b) => a + b, 0))],
    ['Redfish GET EnvironmentMetrics (keep-alive)', () => drive(REQUESTS, 16, async (i) => {
      const e = bmcs[i % Math.min(200, bmcs.length)]!;
      const r = await fetch(`http://127.0.0.1:${e.port}/redfish/v1/Chassis/1/EnvironmentMetrics`, { headers: auth });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    })],
  ];
  console.log(`\n${'load'.padEnd(42)} ${'requests'.padStart(9)} ${'failed'.padStart(7)} ${'req/s'.padStart(8)} ${'sim CPU ms/1000'.padStart(16)} ${'RSS MB'.padStart(7)}`);
  for (const [name, load] of kinds) {
    const u0 = await ask<Usage>(child, 'usage', 'usage');
    const t0 = performance.now();
    const failed = await load();
    const ms = performance.now() - t0;
    const u1 = await ask<Usage>(child, 'usage', 'usage');
    const n = REQUESTS;
    console.log(`${name.padEnd(42)} ${String(n).padStart(9)} ${String(failed).padStart(7)} ${Math.round((n / ms) * 1000).toString().padStart(8)} ${(((u1.cpu_ms - u0.cpu_ms) / n) * 1000).toFixed(0).padStart(16)} ${String(u1.rss_mb).padStart(7)}`);
  }
  for (const s of sessions) s.s.close();
  for (const s of v3sessions) s.close();
  child.send({ cmd: 'stop' });
}

if (process.argv.includes('--serve')) void serve();
else void main();
