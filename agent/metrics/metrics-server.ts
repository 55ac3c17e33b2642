import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../../shared/log.js';
import { EXPOSITION_CONTENT_TYPE } from '../../shared/metrics/exposition.js';
import type { ListenAddress } from './listen-address.js';

const gzipAsync = promisify(gzip);

/**
 * The /metrics endpoint: a thin node:http shell around a render function. GET and HEAD only;
 * the body is gzipped when the scraper accepts it (Prometheus always does), in the thread pool
 * so a large agent's scrape does not stall polling. Nothing else is served: the address is
 * meant for loopback or a management network, and there is nothing to write.
 */
export interface MetricsServerOptions {
  listen: ListenAddress;
  /** The exposition text; may be asynchronous, to yield to the event loop while rendering. */
  render: () => string | Promise<string>;
  logger: Logger;
}

/** Bodies smaller than this go uncompressed: gzip would cost more than it saves. */
const GZIP_MIN_BYTES = 1024;

export class MetricsServer {
  private server: Server | undefined;
  private bound: ListenAddress | undefined;
  private renderFailures = 0;

  constructor(private readonly opts: MetricsServerOptions) {}

  /** Listen; resolves with the address actually bound (port 0 → the port the OS chose). */
  async start(): Promise<ListenAddress> {
    if (this.bound) return this.bound;
    const server = createServer((req, res) => void this.handle(req, res));
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A socket error after start (a scraper resetting the connection) must not crash the agent.
    server.on('error', (e) => this.opts.logger.warn('metrics server error', { error: e }));
    this.server = server;
    const a = server.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    return this.bound;
  }

  get address(): ListenAddress | undefined {
    return this.bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.bound = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the agent serves /metrics\n');
      return;
    }
    let text: string;
    try {
      text = await this.opts.render();
    } catch (e) {
      this.renderFailures++;
      this.opts.logger.error('metrics could not be rendered', { error: e as Error, failures: this.renderFailures });
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('metrics could not be rendered; see the agent log\n');
      return;
    }
    let body = Buffer.from(text, 'utf8');
    const headers: Record<string, string> = { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Cache-Control': 'no-store', Vary: 'Accept-Encoding' };
    if (body.length >= GZIP_MIN_BYTES && acceptsGzip(req.headers['accept-encoding'])) {
      body = await gzipAsync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** The scraper accepts gzip: listed, or covered by `*`, with a q above 0 (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (!coding) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(coding, Number.isFinite(value) ? value : 0);
  }
  const gzip = q.get('gzip') ?? q.get('x-gzip') ?? q.get('*');
  return gzip !== undefined && gzip > 0;
}
