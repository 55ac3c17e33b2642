import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECEIVE_MAXIMUM, MqttSubscriber } from '../../../collector/ingest/subscriber.js';
import { memoryLogger } from '../../../shared/log.js';
import { until } from '../../support/until.js';

/** A variable byte integer (MQTT 5 §1.5.5) at `at`: its value and the offset after it. */
function varint(b: Buffer, at: number): [number, number] {
  let value = 0;
  for (let mul = 1, i = at; i < at + 4; i++, mul *= 128) {
    value += (b[i]! & 0x7f) * mul;
    if ((b[i]! & 0x80) === 0) return [value, i + 1];
  }
  throw new Error('malformed variable byte integer');
}

/** The properties of an MQTT 5 CONNECT packet (only the two the collector sends are decoded). */
function connectProperties(b: Buffer): Record<string, number> {
  expect(b[0]).toBe(0x10);
  let [, at] = varint(b, 1);
  const nameLength = b.readUInt16BE(at);
  at += 2 + nameLength;
  expect(b[at]).toBe(5); // protocol level: MQTT 5
  at += 1 + 1 + 2; // level, flags, keep alive
  const [length, start] = varint(b, at);
  const props: Record<string, number> = {};
  for (let i = start; i < start + length; ) {
    const id = b[i]!;
    if (id === 0x11) props.session_expiry_s = b.readUInt32BE(i + 1);
    else if (id === 0x21) props.receive_maximum = b.readUInt16BE(i + 1);
    else throw new Error(`unexpected CONNECT property 0x${id.toString(16)}`);
    i += id === 0x11 ? 5 : 3;
  }
  return props;
}

/**
 * The broker may keep only `receive_maximum` unacknowledged messages in flight to the collector,
 * so a backlog drained after an outage stays in the broker's queue. Read off the CONNECT packet
 * itself, on a loopback socket that plays the broker.
 */
describe('MqttSubscriber flow control', () => {
  async function connectPacket(receive_maximum?: number): Promise<Buffer> {
    let got = Buffer.alloc(0);
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.on('data', (d) => (got = Buffer.concat([got, d])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const sub = new MqttSubscriber({ url: `mqtt://127.0.0.1:${port}`, client_id: 'flow', sites: ['demo'], on_message: () => undefined, logger: memoryLogger(), stop_timeout_ms: 100, ...(receive_maximum !== undefined ? { receive_maximum } : {}) });
    const started = sub.start().catch(() => undefined);
    try {
      await until('a whole CONNECT packet', () => got.length > 2 && got.length >= varint(got, 1)[0] + varint(got, 1)[1]);
      return got;
    } finally {
      await sub.stop();
      await started;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  it('asks for a bounded receive maximum by default, and the configured one when given', async () => {
    expect(connectProperties(await connectPacket())).toEqual({ session_expiry_s: 7 * 24 * 3600, receive_maximum: DEFAULT_RECEIVE_MAXIMUM });
    expect(DEFAULT_RECEIVE_MAXIMUM).toBeLessThan(65_535);
    expect(connectProperties(await connectPacket(20))).toEqual({ session_expiry_s: 7 * 24 * 3600, receive_maximum: 20 });
  });
});
