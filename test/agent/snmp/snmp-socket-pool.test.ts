import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../../contract/index.js';
import { createNetSnmpTransport } from '../../../agent/snmp/net-snmp-transport.js';
import { SnmpSocketPool } from '../../../agent/snmp/snmp-socket-pool.js';
import type { SnmpTransport } from '../../../agent/snmp/snmp-transport.js';
import { GAUGE_BASE, startManyDevices, type ManyDevices } from './many-devices.js';
import { until } from '../../support/until.js';

/**
 * The shared-socket pool under real net-snmp sessions, against the simulator's SNMP engine
 * serving many devices on one port (community = device). File descriptors are counted in
 * /proc/self/fd: that is the resource Telegraf ran out of at ~1,800 devices.
 */
const fds = () => readdirSync('/proc/self/fd').length;
const N = 1000;
const SLOW = 7; // this device answers after 400 ms

describe('SnmpSocketPool', () => {
  let devices: ManyDevices;
  beforeAll(async () => {
    devices = await startManyDevices(N, { decide: (i) => (i === SLOW ? { action: 'answer', delay_ms: 400 } : { action: 'answer', delay_ms: 0 }) });
  });
  afterAll(() => devices.stop());

  const transport = (i: number, pool?: SnmpSocketPool, timeoutMs = 2000): SnmpTransport =>
    createNetSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port: devices.port, version: '2c', community: `dev-${i}` }, { timeoutMs, ...(pool ? { pool } : {}) });

  it(`${N} sessions share one socket; every answer reaches the session that asked`, async () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const before = fds();
    const ts = Array.from({ length: N }, (_, i) => transport(i, pool));
    // In waves of 100, as the agent's concurrency cap sends them: a burst of 1,000 datagrams
    // overflows the simulator's receive buffer (about 256 with Linux's 208 KiB default).
    const answers = [];
    for (let w = 0; w < N; w += 100) answers.push(...(await Promise.all(ts.slice(w, w + 100).map((t) => t.get(['1.3.6.1.2.1.1.5.0', `${GAUGE_BASE}.2.0`])))));
    const opened = fds() - before;
    try {
      expect(opened).toBeLessThanOrEqual(1);
      answers.forEach((a, i) => {
        expect(a.ok, `dev-${i}`).toBe(true);
        if (!a.ok) return;
        expect(String(a.value[0]?.value)).toBe(`dev-${i}`);
        expect(a.value[1]?.value).toBe(i * 100 + 2);
      });
      expect(pool.stats()).toMatchObject({ sockets: 1, sessions: N, sent: N, received: N, stray: 0, malformed: 0 });
    } finally {
      ts.forEach((t) => t.close());
      pool.close();
    }
    expect(pool.stats().sessions).toBe(0);
  });

  it('without the pool each session holds a socket of its own (what the pool avoids)', async () => {
    const before = fds();
    const ts = Array.from({ length: 100 }, (_, i) => transport(i));
    await Promise.all(ts.map((t) => t.get(['1.3.6.1.2.1.1.5.0'])));
    const opened = fds() - before;
    ts.forEach((t) => t.close());
    expect(opened).toBeGreaterThanOrEqual(100);
  });

  it('an answer that comes after its timeout is counted stray and harms nobody', async () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const slow = transport(SLOW, pool, 100);
    const fast = transport(8, pool, 2000);
    try {
      const r = await slow.get(['1.3.6.1.2.1.1.5.0']);
      expect(r).toMatchObject({ ok: false, kind: 'timeout' });
      await until('the late answer', () => pool.stats().received >= 1, 30_000);
      const ok = await fast.get(['1.3.6.1.2.1.1.5.0']);
      expect(ok.ok && String(ok.value[0]?.value)).toBe('dev-8');
      // The late answer went to the session that asked, which had given up on it.
      expect(pool.stats()).toMatchObject({ sent: 2, received: 2 });
    } finally {
      slow.close();
      fast.close();
      pool.close();
    }
  });

  it('ids are forgotten after two lifetimes: a very late answer is stray', async () => {
    const clock = new ManualClock();
    const pool = new SnmpSocketPool({ clock, idLifetimeMs: 1000 });
    const slow = transport(SLOW, pool, 100);
    const other = transport(9, pool, 2000);
    try {
      await slow.get(['1.3.6.1.2.1.1.5.0']);
      clock.advance(1500);
      await other.get(['1.3.6.1.2.1.1.5.0']); // rotates once: the slow id is in the older generation
      clock.advance(1500);
      await other.get(['1.3.6.1.2.1.1.5.0']); // rotates again: the slow id is gone
      await until('the very late answer', () => pool.stats().received >= 3, 30_000);
      expect(pool.stats()).toMatchObject({ sent: 3, received: 3, stray: 1 });
    } finally {
      slow.close();
      other.close();
      pool.close();
    }
  });

  it('a closed pool fails requests at once instead of hanging', async () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const t = transport(1, pool, 2000);
    pool.close();
    const started = Date.now();
    const r = await t.get(['1.3.6.1.2.1.1.5.0']);
    expect(r.ok).toBe(false);
    // Not the 2 s request timeout.
    expect(Date.now() - started).toBeLessThan(1500);
    t.close();
  });

  it('a session with a fixed source port cannot join the pool and says so', () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const s = pool.dgramModule().createSocket('udp4');
    expect(() => s.bind()).toThrow(/do not bind/);
    s.close();
    pool.close();
  });
});
