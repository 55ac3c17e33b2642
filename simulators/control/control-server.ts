import http from 'node:http';
import { bindOrStop, boundPort, closeHttpServer, readBody } from '../servers/listener.js';
import type { Logger } from '../../shared/log.js';
import { controlError, routeControl, type ControlResponse, type ControlTarget } from './control-routes.js';

/**
 * The control API's socket: node:http on loopback only (it switches faults on a running
 * simulator and has no authentication). Routes and validation live in control-routes.ts.
 */

export interface ControlServerOptions {
  /** 0 binds an ephemeral port. */
  port: number;
  target: ControlTarget;
  logger: Logger;
}

/** Fault bodies are a few fields; anything bigger is a mistake. */
const MAX_BODY = 64 * 1024;
export const CONTROL_HOST = '127.0.0.1';

export class ControlServer {
  private server: http.Server | undefined;

  constructor(private readonly opts: ControlServerOptions) {}

  async start(): Promise<number> {
    const server = http.createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    await bindOrStop(server, (ready) => server.listen(this.opts.port, CONTROL_HOST, ready), {
      failure: `control API cannot listen on ${CONTROL_HOST}:${this.opts.port}/tcp`,
      on_error: (e) => this.opts.logger.warn('control server error', { error: e }),
      stop: () => this.stop(),
    });
    return this.port();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeHttpServer(server);
  }

  port(): number {
    return boundPort(this.server, this.opts.port);
  }

  url(): string {
    return `http://${CONTROL_HOST}:${this.port()}`;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    readBody(req, MAX_BODY, (text) => {
      let response: ControlResponse;
      if (text === undefined) {
        response = controlError(413, 'invalid_body', `the body exceeds ${MAX_BODY} bytes`);
      } else {
        try {
          const url = new URL(req.url ?? '/', 'http://control');
          response = routeControl({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: text }, this.opts.target);
        } catch (e) {
          this.opts.logger.error('control request failed', { path: req.url, error: e as Error });
          response = { status: 500, body: { error: { code: 'internal', message: (e as Error).message } } };
        }
      }
      const body = JSON.stringify(response.body);
      res.writeHead(response.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    });
  }
}
