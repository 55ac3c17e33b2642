import { connect, type MqttClient } from 'mqtt';

/**
 * A subscriber that survives a broker restart: persistent session (`clean: false`, fixed client
 * id), QoS 1, quick reconnects, so messages published while it is away are queued for it by
 * the broker. It keeps every copy it receives, duplicates included: the fault tests check what
 * arrives on the wire, before any de-duplication.
 */
export interface Arrival {
  topic: string;
  /** The raw payload text, to compare duplicates byte for byte. */
  text: string;
  payload: { seq: number; device: string; ts: number; readings: { point: string; value: unknown }[] };
  /** Receive time, ms. */
  at: number;
  dup: boolean;
}

export interface DurableSubscriber {
  arrivals: Arrival[];
  until(pred: () => boolean, ms: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function durableSubscriber(url: string, filter: string): Promise<DurableSubscriber> {
  const client: MqttClient = connect(url, { clientId: `spool-test-sub-${Math.random().toString(16).slice(2, 10)}`, clean: false, reconnectPeriod: 50, connectTimeout: 2000 });
  const arrivals: Arrival[] = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    arrivals.push({ topic, text, payload: JSON.parse(text) as Arrival['payload'], at: Date.now(), dup: packet.dup });
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error(`subscriber could not connect to ${url}`)), 5000);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    arrivals,
    until: async (pred, ms, what) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (${arrivals.length} messages so far)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => client.endAsync(true),
  };
}

/** The value of the counting reader's `poll_count` reading. */
export function pollCount(a: Arrival): number {
  return a.payload.readings.find((r) => r.point === 'poll_count')?.value as number;
}
