import dgram from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../contract/index.js';
import { createLeanSnmpTransport } from '../../../agent/snmp/lean-snmp-transport.js';
import { messageKey } from '../../../agent/snmp/message-id.js';
import { SnmpSocketPool } from '../../../agent/snmp/snmp-socket-pool.js';
import { snmpMessage, tlv, varbind } from '../../support/snmp-ber.js';

/**
 * A GET's answer is garbage as soon as its caller lets it go, although the pool keeps the settled
 * request in its timeout queue for up to a timeout: at 10,000 devices, answers held that long
 * were promoted to the old space by the thousand and grew the agent's heap.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const OIDS = Array.from({ length: 20 }, (_, i) => `1.3.6.1.4.1.32473.7.${i + 1}.0`);

/** `n` GETs, each answer checked and then held only weakly: a frame of its own, so no local keeps the last one. */
async function weakAnswers(lean: ReturnType<typeof createLeanSnmpTransport>, n: number): Promise<WeakRef<object>[]> {
  const refs: WeakRef<object>[] = [];
  for (let k = 0; k < n; k++) {
    const r = await lean.get(OIDS);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.map((v) => v.oid)).toEqual(OIDS);
      refs.push(new WeakRef(r.value));
    }
  }
  return refs;
}

describe('lean SNMP GET transport: answers are not kept', () => {
  const peer = dgram.createSocket('udp4');
  let port = 0;
  beforeAll(async () => {
    peer.on('message', (msg, rinfo) => {
      const key = messageKey(msg);
      if (!key) return;
      const answer = snmpMessage({ version: key.version, community: 'public', id: key.id, varbinds: OIDS.map((oid) => varbind(oid, tlv(0x04, Buffer.from(`value of ${oid}`)))) });
      peer.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    port = peer.address().port;
  });
  afterAll(() => new Promise<void>((r) => peer.close(() => r())));

  it('the decoded varbinds can be collected while the settled request still waits in the timeout queue', async () => {
    // The manual clock never reaches the deadline, so the pool keeps every settled request queued.
    const pool = new SnmpSocketPool({ clock: new ManualClock(1_800_000_000_000) });
    const lean = createLeanSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port, version: '2c', community: 'public' }, { timeoutMs: 60_000, pool });
    try {
      const refs = await weakAnswers(lean, 5);
      expect(refs).toHaveLength(5);
      // A WeakRef keeps its target alive until the current job ends: collect in a later turn.
      await new Promise((r) => setImmediate(r));
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      expect(refs.filter((w) => w.deref() !== undefined)).toHaveLength(0);
      expect(pool.stats().pending).toBe(0); // answered, not timed out
    } finally {
      lean.close();
      pool.close();
    }
  });
});
