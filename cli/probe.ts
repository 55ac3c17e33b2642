import { connect } from 'node:net';
import { DcimError, describeNetworkError } from '../contract/index.js';

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'tcp:': 1883, 'ws:': 80, 'wss:': 443, 'http:': 80, 'https:': 443 };

/**
 * One TCP connection to the service a URL names, closed at once: an interactive command learns
 * that the broker or the store is missing (refused, unknown host) before it starts anything,
 * instead of retrying forever in the background. Silence (a firewall dropping packets) is not
 * judged here: the command's own timeouts and retries deal with it.
 */
export async function probeService(what: string, url: string, timeoutMs = 3000): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DcimError('DCIM_E_CONFIG_INVALID', `${what}: ${JSON.stringify(url)} is not a URL`);
  }
  const port = u.port !== '' ? Number(u.port) : DEFAULT_PORTS[u.protocol];
  if (port === undefined) return;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (e?: Error) => {
      socket.destroy();
      clearTimeout(timer);
      const net = e === undefined ? undefined : describeNetworkError(e);
      if (net) reject(new DcimError(net.code, `${what} ${redact(u)}: ${net.message}`));
      else resolve();
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.once('connect', () => done());
    socket.once('error', (e) => done(e));
  });
}

/** A URL without its credentials, for messages. */
export function redact(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}
