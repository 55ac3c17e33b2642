import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../contract/index.js';
import type { RedfishOutcome, RedfishTransport } from './redfish-transport.js';

/**
 * RedfishTransport over node:http / node:https, the only file that speaks HTTP to a BMC.
 * - One keep-alive connection pool per BMC with at most `maxSockets` connections: the profile's
 *   `max_concurrent_requests`, since BMCs are slow and fragile (NVIDIA caps Redfish at 4
 *   concurrent operations per BMC).
 * - HTTP Basic authentication from the seed's username and password secret (DSP0266 §13.2);
 *   the password never appears in logs or errors.
 * - `verify_tls: false` accepts a BMC's self-signed certificate; the default verifies it.
 * - One timer covers the whole exchange, headers and body: a BMC that trickles its body a
 *   byte at a time times out like one that never answers.
 * - Bodies beyond `maxBodyBytes` are cut off and refused: a broken BMC cannot fill our memory.
 * - Redirects are not followed (a BMC sending http to https says so in the error).
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
  const secure = opts.scheme === 'https';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets, rejectUnauthorized: opts.verifyTls })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const auth = opts.username !== undefined ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}` : undefined;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let closed = false;

  const get = (path: string, timeoutMs: number): Promise<RedfishOutcome> =>
    new Promise((resolve) => {
      if (closed) return resolve({ ok: false, kind: 'connect', message: 'transport closed' });
      let settled = false;
      const done = (o: RedfishOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const headers: http.OutgoingHttpHeaders = { Accept: 'application/json', 'OData-Version': '4.0', ...(auth ? { Authorization: auth } : {}) };
      const req = (secure ? https : http).request({ host: opts.host, port: opts.port, path, method: 'GET', headers, agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          res.resume();
          return done({ ok: false, kind: 'auth', status, message: `HTTP ${status} for ${path}` });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          const where = status >= 300 && status < 400 && res.headers.location ? ` (redirect to ${String(res.headers.location).slice(0, 120)})` : '';
          return done({ ok: false, kind: 'http', status, message: `HTTP ${status} for ${path}${where}` });
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBody) {
          req.destroy();
          return done({ ok: false, kind: 'too_large', message: `${path}: body of ${declared} bytes exceeds ${maxBody}` });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBody) {
            req.destroy();
            done({ ok: false, kind: 'too_large', message: `${path}: body exceeds ${maxBody} bytes` });
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          try {
            done({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
          } catch (e) {
            done({ ok: false, kind: 'not_json', message: `${path}: ${(e as Error).message.slice(0, 120)}` });
          }
        });
        res.on('error', (e) => done({ ok: false, kind: 'connect', message: `${path}: ${e.message}` }));
      });
      const timer = setTimeout(() => {
        done({ ok: false, kind: 'timeout', message: `${path}: no complete answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => done({ ok: false, kind: 'connect', message: `${path}: ${e.message}` }));
      req.end();
    });

  return {
    get,
    close: () => {
      closed = true;
      agent.destroy();
    },
  };
}
