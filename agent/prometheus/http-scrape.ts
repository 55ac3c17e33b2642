import http from 'node:http';
import https from 'node:https';

/**
 * One scrape over node:http / node:https, the only file that speaks HTTP to an exporter.
 * - `Accept` asks for the text format 0.0.4 (an exporter that can also speak protobuf or
 *   OpenMetrics then answers in the format the parser reads); a body of another content type
 *   is refused, not guessed at.
 * - An optional bearer token (never logged).
 * - One timer covers the whole exchange, headers and body; bodies beyond `maxBodyBytes` are cut
 *   off and refused, so a runaway exporter cannot fill the agent's memory.
 * - Redirects are not followed: the address names the endpoint.
 */
export type ScrapeFailureKind = 'timeout' | 'connect' | 'http' | 'auth' | 'too_large' | 'not_text';
export type ScrapeOutcome = { ok: true; text: string } | { ok: false; kind: ScrapeFailureKind; status?: number; message: string };

export interface ScrapeTransport {
  scrape(timeoutMs: number): Promise<ScrapeOutcome>;
  close(): void;
}

export interface HttpScrapeOptions {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  bearerToken?: string | undefined;
  verifyTls: boolean;
  /** Default 16 MiB: dcgm-exporter with every field on 8 GPUs serves well under 1 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_SCRAPE_BYTES = 16 * 1024 * 1024;
export const ACCEPT_TEXT_004 = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

export function createHttpScrapeTransport(opts: HttpScrapeOptions): ScrapeTransport {
  const secure = opts.scheme === 'https';
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: opts.verifyTls }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_SCRAPE_BYTES;
  let closed = false;

  const scrape = (timeoutMs: number): Promise<ScrapeOutcome> =>
    new Promise((resolve) => {
      if (closed) return resolve({ ok: false, kind: 'connect', message: 'transport closed' });
      let settled = false;
      const done = (o: ScrapeOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const headers: http.OutgoingHttpHeaders = { Accept: ACCEPT_TEXT_004, ...(opts.bearerToken !== undefined ? { Authorization: `Bearer ${opts.bearerToken}` } : {}) };
      const req = (secure ? https : http).request({ host: opts.host, port: opts.port, path: opts.path, method: 'GET', headers, agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          res.resume();
          return done({ ok: false, kind: 'auth', status, message: `HTTP ${status} for ${opts.path}` });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          return done({ ok: false, kind: 'http', status, message: `HTTP ${status} for ${opts.path}` });
        }
        const type = String(res.headers['content-type'] ?? '').toLowerCase();
        // The 0.0.4 format is text/plain; no content type at all is how a bare exporter says it too.
        if (type !== '' && !type.startsWith('text/plain')) {
          req.destroy();
          return done({ ok: false, kind: 'not_text', message: `${opts.path}: content type ${type.slice(0, 80)} is not the text exposition format` });
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBody) {
          req.destroy();
          return done({ ok: false, kind: 'too_large', message: `${opts.path}: body of ${declared} bytes exceeds ${maxBody}` });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBody) {
            req.destroy();
            done({ ok: false, kind: 'too_large', message: `${opts.path}: body exceeds ${maxBody} bytes` });
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => done({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => done({ ok: false, kind: 'connect', message: `${opts.path}: ${e.message}` }));
      });
      const timer = setTimeout(() => {
        done({ ok: false, kind: 'timeout', message: `${opts.path}: no complete answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => done({ ok: false, kind: 'connect', message: `${opts.path}: ${e.message}` }));
      req.end();
    });

  return {
    scrape,
    close: () => {
      closed = true;
      agent.destroy();
    },
  };
}
