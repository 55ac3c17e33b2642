import http from 'node:http';
import https from 'node:https';

/**
 * One bounded HTTP GET over node:http / node:https, shared by the transports that read a device
 * over HTTP (Redfish BMCs, Prometheus exporters); each keeps only its own headers and body format.
 * - One keep-alive pool per client with at most `maxSockets` connections.
 * - `verifyTls: false` accepts a self-signed certificate; otherwise it is verified.
 * - One timer covers the whole exchange, headers and body: a peer that trickles its body a byte
 *   at a time times out like one that never answers.
 * - A body beyond `maxBodyBytes` (declared or streamed) is cut off and refused, so a broken peer
 *   cannot fill the agent's memory.
 * - Redirects are not followed: the address names the endpoint; `location` says where it pointed.
 * Node's own client is used rather than fetch/undici because a per-request TLS opt-out and a
 * streamed byte limit are direct here and need no extra dependency.
 */
export type BoundedGetFailureKind = 'timeout' | 'connect' | 'http' | 'auth' | 'too_large';

export interface BoundedGetFailure<K extends string = never> {
  ok: false;
  kind: BoundedGetFailureKind | K;
  status?: number;
  /** The Location header of a 3xx answer. */
  location?: string;
  message: string;
}

export type BoundedGetOutcome<K extends string = never> =
  | { ok: true; status: number; headers: http.IncomingHttpHeaders; body: Buffer }
  | BoundedGetFailure<K>;

/** Looks at a 2xx answer's status line and headers before its body is read; a failure refuses it. */
export type AcceptCheck<K extends string> = (res: http.IncomingMessage) => { kind: K; message: string } | undefined;

export interface BoundedGetClient {
  get<K extends string = never>(
    path: string,
    headers: http.OutgoingHttpHeaders,
    timeoutMs: number,
    accept?: AcceptCheck<K>,
  ): Promise<BoundedGetOutcome<K>>;
  /** Refuses further requests and destroys the pooled connections. */
  close(): void;
}

export interface BoundedGetOptions {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  verifyTls: boolean;
  maxSockets: number;
  maxBodyBytes: number;
}

export function createBoundedGetClient(opts: BoundedGetOptions): BoundedGetClient {
  const secure = opts.scheme === 'https';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets, rejectUnauthorized: opts.verifyTls })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const maxBody = opts.maxBodyBytes;
  let closed = false;

  const get = <K extends string = never>(
    path: string,
    headers: http.OutgoingHttpHeaders,
    timeoutMs: number,
    accept?: AcceptCheck<K>,
  ): Promise<BoundedGetOutcome<K>> =>
    new Promise((resolve) => {
      if (closed) return resolve({ ok: false, kind: 'connect', message: 'transport closed' });
      let settled = false;
      const done = (o: BoundedGetOutcome<K>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = (secure ? https : http).request({ host: opts.host, port: opts.port, path, method: 'GET', headers, agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          res.resume();
          return done({ ok: false, kind: 'auth', status, message: `HTTP ${status} for ${path}` });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          const location = status >= 300 && status < 400 && res.headers.location ? String(res.headers.location) : undefined;
          return done({ ok: false, kind: 'http', status, ...(location !== undefined ? { location } : {}), message: `HTTP ${status} for ${path}` });
        }
        const refused = accept?.(res);
        if (refused) {
          req.destroy();
          return done({ ok: false, kind: refused.kind, message: refused.message });
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
        res.on('end', () => done({ ok: true, status, headers: res.headers, body: Buffer.concat(chunks) }));
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
