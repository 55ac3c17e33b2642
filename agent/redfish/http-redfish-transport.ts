import type { Logger } from '../../shared/log.js';
import { createBoundedGetClient } from '../http/bounded-get.js';
import type { RedfishOutcome, RedfishTransport } from './redfish-transport.js';

/**
 * RedfishTransport over the shared bounded GET (keep-alive pool, one timer for headers and body,
 * body size limit, TLS verification switch, no redirects). What is the BMC's own:
 * - At most `maxSockets` connections per BMC: the profile's `max_concurrent_requests`, since
 *   BMCs are slow and fragile (NVIDIA caps Redfish at 4 concurrent operations per BMC).
 * - HTTP Basic authentication from the seed's username and password secret (DSP0266 §13.2);
 *   the password never appears in logs or errors.
 * - `OData-Version: 4.0` and a JSON body.
 * - A redirect is not followed, but the error names its target (a BMC sending http to https).
 */
export interface HttpRedfishTransportOptions {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  verifyTls: boolean;
  maxSockets: number;
  /** Default 2 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

export function createHttpRedfishTransport(opts: HttpRedfishTransportOptions): RedfishTransport {
  const client = createBoundedGetClient({
    scheme: opts.scheme,
    host: opts.host,
    port: opts.port,
    verifyTls: opts.verifyTls,
    maxSockets: opts.maxSockets,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  const auth = opts.username !== undefined ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}` : undefined;
  const headers = { Accept: 'application/json', 'OData-Version': '4.0', ...(auth ? { Authorization: auth } : {}) };

  const get = async (path: string, timeoutMs: number): Promise<RedfishOutcome> => {
    const got = await client.get(path, headers, timeoutMs);
    if (!got.ok) {
      const where = got.location !== undefined ? ` (redirect to ${got.location.slice(0, 120)})` : '';
      return { ok: false, kind: got.kind, ...(got.status !== undefined ? { status: got.status } : {}), message: `${got.message}${where}` };
    }
    try {
      return { ok: true, value: JSON.parse(got.body.toString('utf8')) as unknown };
    } catch (e) {
      return { ok: false, kind: 'not_json', message: `${path}: ${(e as Error).message.slice(0, 120)}` };
    }
  };

  return { get, close: () => client.close() };
}
