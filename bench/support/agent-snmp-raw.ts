import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SystemClock, type SiteInventory } from '../../contract/index.js';
import { SnmpSocketPool } from '../../agent/snmp/snmp-socket-pool.js';
import { BENCH_POINTS, benchOid } from './agent-snmp-site.js';

/**
 * The agent-snmp benchmark's raw loop, a child process of its own:
 *   node bench/support/agent-snmp-raw.js --dir=<dir> --max-concurrent=<n>
 * Sweeps on { cmd: 'sweep' } and answers with its counts; exits on { cmd: 'stop' }.
 */
const OIDS = BENCH_POINTS.length;
type Msg = { cmd: string };

/**
 * Child: the protocol's own cost, the floor under any poller in Node. Plain net-snmp GETs of
 * the same 20 OIDs from every device, `max_concurrent` in flight, sweeps back to back, over the
 * agent's shared UDP socket (SnmpSocketPool: 10,000 sessions with a socket each would hold
 * 10,000 descriptors); answers are counted, nothing else is done with them.
 */
async function rawLoop(dir: string, maxConcurrent: number): Promise<void> {
  const inventory = JSON.parse(readFileSync(join(dir, 'inventory.json'), 'utf8')) as SiteInventory;
  type Session = { get(oids: string[], cb: (e: Error | null, vbs: { type: number }[]) => void): void };
  const snmp = createRequire(import.meta.url)('net-snmp') as { createSession(host: string, community: string, o: object): Session; Version2c: number };
  const pool = new SnmpSocketPool({ clock: new SystemClock() });
  const oids = BENCH_POINTS.map((_, i) => benchOid(i));
  const sessions = inventory.devices.map((d) => {
    const a = d.address as { host: string; port: number; community: string };
    return snmp.createSession(a.host, a.community, { port: a.port, version: snmp.Version2c, retries: 0, timeout: 2000, dgramModule: pool.dgramModule() });
  });
  const counts = { polls: 0, good: 0, bad: 0 };
  const sweep = async () => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < sessions.length; i = next++) {
        await new Promise<void>((resolve) =>
          (sessions[i] as Session).get(oids, (e, vbs) => {
            counts.polls++;
            const good = e ? 0 : vbs.filter((vb) => vb.type !== 128 && vb.type !== 129 && vb.type !== 130).length;
            counts.good += good;
            counts.bad += OIDS - good;
            resolve();
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: maxConcurrent }, worker));
  };
  process.on('message', (m: Msg) => {
    if (m.cmd === 'sweep') void sweep().then(() => process.send?.({ cmd: 'sweep', counts: { ...counts } }));
    if (m.cmd === 'stop') {
      pool.close();
      process.exit(0);
    }
  });
  process.send?.({ cmd: 'ready' });
}

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
await rawLoop(arg('dir'), Number(arg('max-concurrent') || 64));
