import { isIP } from 'node:net';
import type { Result } from '../../shared/result.js';

/**
 * `host:port` of the /metrics endpoint: `127.0.0.1:9464` (loopback only, the default advice),
 * `0.0.0.0:9464` or `[::]:9464` (every interface), `[::1]:9464`, `localhost:9464`. Port 0 asks
 * the OS for a free port (tests). The documented 9464 is the OpenTelemetry specification's
 * default for a Prometheus exporter, so a scrape config written for other agents fits.
 */
export interface ListenAddress {
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseListenAddress(text: string): Result<ListenAddress, string> {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return { ok: false, reason: `expected host:port such as 127.0.0.1:9464 or [::1]:9464, got ${JSON.stringify(text)}` };
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port > 65535) return { ok: false, reason: `port ${port} is above 65535` };
  if (m[1] !== undefined && isIP(host) !== 6) return { ok: false, reason: `${JSON.stringify(host)} in brackets is not an IPv6 address` };
  if (m[2] !== undefined && isIP(host) === 0 && !HOSTNAME.test(host)) return { ok: false, reason: `${JSON.stringify(host)} is neither an IP address nor a host name` };
  return { ok: true, value: { host, port } };
}

export function formatListenAddress(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Why this address cannot be bound on a machine with these interface addresses, or undefined.
 * Wildcards and loopback always can; another IP only if an interface has it (else listen fails
 * with EADDRNOTAVAIL at start). A host name is resolved at start and is not judged here.
 */
export function listenHostProblem(a: ListenAddress, localAddresses: readonly string[]): string | undefined {
  const family = isIP(a.host);
  if (family === 0) return undefined;
  if (a.host === '0.0.0.0' || a.host === '::' || a.host === '::1' || a.host.startsWith('127.')) return undefined;
  const norm = (h: string) => h.toLowerCase().replace(/%.*$/, '');
  if (localAddresses.some((l) => norm(l) === norm(a.host))) return undefined;
  return `${a.host} is not an address of this machine (it has ${localAddresses.join(', ') || 'none'}); use 127.0.0.1, 0.0.0.0 or one of those`;
}
