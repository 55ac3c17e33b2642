import { createServer, Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MqttSubscriber } from '../../../collector/ingest/subscriber.js';
import { topics } from '../../../contract/topics.js';
import { memoryLogger } from '../../../shared/log.js';
import { until } from '../../support/until.js';

/** An MQTT packet: fixed header byte, remaining length (variable byte integer), body. */
function packet(first: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const str = (s: string) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
/** MQTT 5 QoS 1 PUBLISH without properties. */
const publish = (topic: string, id: number, payload: string) => packet(0x32, Buffer.concat([str(topic), u16(id), Buffer.from([0]), Buffer.from(payload)]));

/**
 * The acknowledgements of one socket read leave in one write (mqtt.js alone writes one per
 * message: a system call each, an eighth of the collector's CPU while it drains a backlog), and
 * none before its message's handler has run. A loopback socket plays the broker and sends a burst
 * of QoS 1 messages in one write; the subscriber's socket writes are counted.
 */
describe('MqttSubscriber acknowledgements', () => {
  afterEach(() => vi.restoreAllMocks());

  it('acknowledges a burst of QoS 1 messages in one write, each after its handler', async () => {
    const BURST = 50;
    let fromClient = Buffer.alloc(0);
    const sockets: Socket[] = [];
    let broker!: Socket;
    const server = createServer((s) => {
      sockets.push(s);
      broker = s;
      s.on('data', (d) => {
        fromClient = Buffer.concat([fromClient, d]);
        // CONNECT → CONNACK (MQTT 5, no properties); SUBSCRIBE → SUBACK granting QoS 1 to its three filters.
        if (d[0] === 0x10) s.write(Buffer.from([0x20, 3, 0, 0, 0]));
        if (d[0] === 0x82) s.write(packet(0x90, Buffer.concat([d.subarray(2, 4), Buffer.from([0, 1, 1, 1])])));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;

    // Every write the subscriber's own socket makes (the server side's remote port is not the broker's).
    const writes: number[] = [];
    const count = (chunks: number) =>
      function (this: Socket) {
        if (this.remotePort === port) writes.push(chunks);
      };
    const writev = Socket.prototype._writev!;
    const write = Socket.prototype._write;
    vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, chunks, cb) {
      count(chunks.length).call(this);
      return writev.call(this, chunks, cb);
    });
    vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, chunk, enc, cb) {
      count(1).call(this);
      return write.call(this, chunk, enc, cb);
    });

    const handled: number[] = [];
    const sub = new MqttSubscriber({ url: `mqtt://127.0.0.1:${port}`, client_id: 'acks', sites: ['demo'], on_message: (_t, p) => handled.push(Number(p.toString())), logger: memoryLogger(), stop_timeout_ms: 100 });
    try {
      await sub.start();
      writes.length = 0;
      const before = fromClient.length;
      const topic = topics.telemetry('demo', 'edge-1', 'd1');
      broker.write(Buffer.concat(Array.from({ length: BURST }, (_, i) => publish(topic, i + 1, String(i + 1)))));
      // A PUBACK is 0x40 + length 2 + the packet id (reason code 0 omitted): 4 bytes each.
      await until('every PUBACK', () => fromClient.length - before >= 4 * BURST);
      const acks = fromClient.subarray(before);
      expect([...Array(BURST).keys()].map((i) => acks.readUInt16BE(4 * i + 2))).toEqual(handled);
      expect(handled).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));
      // One system call (a few if the burst came in several reads), not one per message.
      expect(writes.length).toBeLessThanOrEqual(3);
    } finally {
      await sub.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
