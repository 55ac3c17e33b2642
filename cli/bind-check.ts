import { createServer } from 'node:net';
import { DcimError, describeNetworkError } from '../contract/index.js';

/**
 * `--check` binds what the command will bind and lets go at once, so a port held by another
 * process (or a listen address that is not this host's) fails the check, not the start.
 */
export async function checkListen(what: string, host: string, port: number): Promise<string> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (e) {
    const net = describeNetworkError(e);
    throw new DcimError(net?.code ?? 'DCIM_E_NET_PORT_IN_USE', `${what} ${host}:${port}: ${net?.message ?? (e as Error).message}`);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `${what} ${host.includes(':') ? `[${host}]` : host}:${port} is free (bound and released)`;
}
