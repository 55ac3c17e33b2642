import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';

/** An in-process MQTT broker (aedes) on loopback, for the demo: no service to install. */
export interface EmbeddedBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(port = 0, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
