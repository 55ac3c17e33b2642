import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdWritesForThisTurn } from '../../agent/turn-write-batch.js';
import { until } from '../support/until.js';

/** A TCP connection on loopback: the client socket and everything the server side received. */
async function pair(): Promise<{ client: net.Socket; received: () => Buffer; ended: () => boolean; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  let ended = false;
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => (ended = true));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  open.push(server);
  return {
    client,
    received: () => Buffer.concat(chunks),
    ended: () => ended,
    close: async () => {
      client.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
const open: net.Server[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const turn = () => new Promise((r) => setImmediate(r));

describe('holdWritesForThisTurn (a TCP socket on loopback)', () => {
  it('a turn of writes, strings and Buffers, reaches the socket as one chunk, byte for byte and in order', async () => {
    const { client, received, close } = await pair();
    const write = vi.spyOn(client as unknown as { _write: () => void }, '_write');
    const writev = vi.spyOn(client as unknown as { _writev: () => void }, '_writev');
    const pieces: (string | Buffer)[] = [Buffer.from([0x32, 0x80]), 'dcim/v1/温度', Buffer.from('{"v":"Ω µ°C"}'), 'tail'];
    const expected = Buffer.concat(pieces.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x)));
    const called: unknown[] = [];
    expect(holdWritesForThisTurn(client)).toMatchObject({ stream: client });
    for (const x of pieces) expect(client.write(x, (e) => called.push(e ?? null))).toBe(true);
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(0); // held until the turn ends
    await turn();
    expect(write.mock.calls.length).toBe(1);
    expect(writev.mock.calls.length).toBe(0);
    await until('every byte at the server', () => received().length >= expected.length, 20_000, () => `${received().length} of ${expected.length}`);
    expect(received().toString('hex')).toBe(expected.toString('hex'));
    await until('each write callback called', () => called.length === pieces.length, 20_000);
    expect(called).toEqual(pieces.map(() => null));
    // The turn is over: the socket writes through its own method again.
    expect(Object.getOwnPropertyDescriptor(client, 'write')).toBeUndefined();
    await close();
  });

  it('end() in the same turn sends what was held before the end', async () => {
    const { client, received, ended, close } = await pair();
    holdWritesForThisTurn(client);
    client.write('first ');
    client.write(Buffer.from('second'));
    client.end('!');
    await until('the server saw the end', ended, 20_000);
    expect(received().toString()).toBe('first second!');
    await close();
  });

  it('a socket destroyed in the turn drops what was held and tells each write callback', async () => {
    const { client, close } = await pair();
    holdWritesForThisTurn(client);
    const errors: (string | undefined)[] = [];
    client.write('lost', (e) => errors.push((e as { code?: string } | null | undefined)?.code));
    client.destroy();
    await turn();
    expect(errors).toEqual(['ERR_STREAM_DESTROYED']);
    expect(holdWritesForThisTurn(client)).toBeUndefined();
    await close();
  });
});
