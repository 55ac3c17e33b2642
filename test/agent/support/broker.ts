import net from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';

/** An in-process aedes broker on a free loopback port, with a handle on every client socket. */
export interface TestBroker {
  url: string;
  broker: Aedes;
  /** Destroy the TCP connections of every client whose id starts with `prefix` (an abrupt loss). */
  cut(prefix: string): void;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    cut: (prefix) => {
      for (const [id, client] of Object.entries(clientsOf(broker))) if (id.startsWith(prefix)) client.conn.destroy();
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** aedes keeps connected clients in `clients` (not in its typings). */
export function clientsOf(broker: Aedes): Record<string, { conn: net.Socket; clean: boolean }> {
  return (broker as unknown as { clients: Record<string, { conn: net.Socket; clean: boolean }> }).clients;
}

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  qos: number;
  retain: boolean;
}

/** A plain subscriber that records what it receives. */
export async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; messages: Received[]; waitFor(pred: (m: Received) => boolean, ms?: number): Promise<Received> }> {
  const client = connect(url, { clientId: `test-sub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const messages: Received[] = [];
  const waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    const m = { topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, qos: packet.qos, retain: packet.retain };
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    messages,
    waitFor: (pred, ms = 20_000) => {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages)}`)), ms);
        waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
  };
}
