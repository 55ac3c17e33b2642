import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { LiveHandler } from '../live/live-handler.js';
import { LogThrottle } from '../log-throttle.js';
import { apiError, ApiRoutes, type ApiResponse, type ApiRoutesOptions } from './api-routes.js';

/**
 * The node:http shell around api-routes.ts (no framework: a few read-only GET routes need none).
 * Limits: request target 2 KiB (414), headers 16 KiB (431, answered by node), no request body
 * (413 for a declared one, the connection closed for a body sent without length), 10 s per
 * request, 5 s for the headers — also on a connection that never sends a byte, which node alone
 * would keep open — 5 s idle between keep-alive requests, and at most
 * `max_connections` open at once (default 256; node drops the ones beyond, counted). Without
 * these, a few hundred idle sockets exhaust the process's file descriptors. Counts requests by
 * status class.
 */
export interface ApiServerOptions extends ApiRoutesOptions {
  host: string;
  port: number;
  logger: Logger;
  now?: () => number;
  /** Open connections at most (live streams included); default 256. */
  max_connections?: number;
  /** Time for a connection to send complete headers, ms; default 5000. */
  headers_timeout_ms?: number;
  /** Serve HTTPS with this certificate chain and private key (PEM); absent: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface ApiServerStats {
  requests: number;
  /** By status: 2xx, 3xx, 4xx, 5xx. */
  responses: Record<'2xx' | '4xx' | '5xx', number>;
  unauthorized: number;
  /** Connections dropped at accept because `max_connections` were open. */
  connections_refused: number;
}

const MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 256;

export class ApiServer {
  private server: http.Server | https.Server | undefined;
  private routes: ApiRoutes | undefined;
  private readonly counters: ApiServerStats = { requests: 0, responses: { '2xx': 0, '4xx': 0, '5xx': 0 }, unauthorized: 0, connections_refused: 0 };
  private throttle: LogThrottle | undefined;
  /** Connections that sent a request: from then on node's own timeouts govern them. */
  private readonly served = new WeakSet<Socket>();
  /** The live page, its event stream and trends (collector/live), offered each request first. */
  private live: LiveHandler | undefined;

  constructor(private readonly opts: ApiServerOptions) {}

  /** Listens; resolves with the bound address (port 0 picks a free port). */
  async start(): Promise<{ host: string; port: number; url: string }> {
    if (this.server) throw new Error('ApiServer already started');
    this.routes = new ApiRoutes(this.opts);
    this.throttle = new LogThrottle(this.opts.now ?? Date.now);
    this.live = new LiveHandler({ source: this.opts.source, token: this.opts.token, now: this.opts.now ?? Date.now });
    const headersTimeout = this.opts.headers_timeout_ms ?? 5_000;
    const httpOptions = { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: Math.max(10_000, headersTimeout), headersTimeout, keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.min(1_000, headersTimeout) };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => this.onRequest(req, res);
    const tls = this.opts.tls;
    // TLS: the handshake gets the headers' time too (node's default is 120 s), the same limits after it.
    const server: http.Server | https.Server = tls ? https.createServer({ ...httpOptions, cert: tls.cert, key: tls.key, handshakeTimeout: headersTimeout }, onRequest) : http.createServer(httpOptions, onRequest);
    // node's headersTimeout starts with the first byte: a connection that sends nothing would stay.
    // Over TLS the request's socket is the TLS socket, known once the handshake is done.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      const timer = setTimeout(() => {
        if (!this.served.has(socket)) socket.destroy();
      }, headersTimeout);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    });
    server.maxConnections = this.opts.max_connections ?? DEFAULT_MAX_CONNECTIONS;
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.counters.connections_refused++;
      if (this.throttle?.allow('connections-full')) {
        this.opts.logger.warn('HTTP API connection refused: too many open', { code: 'DCIM_E_API_TOO_LARGE', max_connections: server.maxConnections, remote: d?.remoteAddress });
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.live.start();
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const url = `${tls ? 'https' : 'http'}://${host}:${a.port}`;
    this.opts.logger.info('HTTP API listening', { url, tls: tls !== undefined, cors: this.opts.cors_origin ?? 'off' });
    return { host: a.address, port: a.port, url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.live?.stop();
    this.live = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  stats(): ApiServerStats {
    return { ...this.counters, responses: { ...this.counters.responses } };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counters.requests++;
    this.served.add(req.socket);
    let out: ApiResponse;
    const declared = Number(req.headers['content-length'] ?? 0);
    try {
      // A target no URL parser takes (an absolute form like `http://[::1/`) is the client's error, for every route.
      if (!URL.canParse(req.url ?? '/', 'http://api.invalid')) out = apiError(400, 'DCIM_E_API_BAD_REQUEST', 'malformed request target');
      else if (declared === 0 && req.headers['transfer-encoding'] === undefined && this.live?.handle(req, res)) return;
      else if (declared > 0 || req.headers['transfer-encoding'] !== undefined) {
        out = apiError(413, 'DCIM_E_API_TOO_LARGE', 'request bodies are not accepted: the API is read-only');
        res.setHeader('connection', 'close');
      } else {
        out = (this.routes as ApiRoutes).handle({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
          ...(typeof req.headers.origin === 'string' ? { origin: req.headers.origin } : {}),
        });
      }
    } catch (e) {
      this.opts.logger.error('HTTP API handler failed', { code: 'DCIM_E_API_INTERNAL', path: (req.url ?? '').split('?')[0]!.slice(0, 200), error: e as Error });
      out = apiError(500, 'DCIM_E_API_INTERNAL', 'internal error; see the collector log');
    }
    if (out.status === 401) {
      this.counters.unauthorized++;
      if (this.throttle?.allow('unauthorized')) {
        // The path without its query: /api/events takes ?token=, and a refused token is not logged.
        this.opts.logger.warn('HTTP API request refused: no or wrong bearer token', { code: 'DCIM_E_API_UNAUTHORIZED', remote: req.socket.remoteAddress, path: (req.url ?? '').split('?')[0]!.slice(0, 200) });
      }
    }
    const cls = out.status >= 500 ? '5xx' : out.status >= 400 ? '4xx' : '2xx';
    this.counters.responses[cls]++;
    // A body the client sends anyway is not read: drop the connection after answering.
    req.on('data', () => req.destroy());
    res.writeHead(out.status, { 'content-length': String(Buffer.byteLength(out.body)), ...out.headers });
    res.end(out.body);
  }
}
