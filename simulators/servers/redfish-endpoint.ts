import http from 'node:http';
import https from 'node:https';
import { bindOrStop, boundPort, closeHttpServer, readBody } from './listener.js';
import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { RequestDecision } from '../faults/request-faults.js';
import { SessionTable, handleRedfish, redfishError, type RedfishCredentials, type RedfishResponse } from './redfish-service.js';

/**
 * One simulated BMC: a Redfish service on its own HTTP(S) port. Redfish paths are fixed
 * (`/redfish/v1/Chassis/1`), so BMCs cannot share a port the way SNMP devices share one by
 * community; one port per BMC is how a lab network looks anyway (one address per BMC).
 */

export interface RedfishDeviceBinding {
  key: string;
  credentials: RedfishCredentials | undefined;
  version(): number;
  documents(): ReadonlyMap<string, unknown>;
  decide(): RequestDecision;
  /** The BMC clock's offset from real time (a clock_skew fault), ms. */
  clockSkewMs(): number;
}

export interface TlsMaterial {
  key: string;
  cert: string;
}

export interface RedfishEndpointOptions {
  host: string;
  port: number;
  device: RedfishDeviceBinding;
  /** Serve HTTPS with this key and certificate; plain HTTP without. */
  tls?: TlsMaterial | undefined;
  logger: Logger;
  clock: Clock;
}

export interface RedfishEndpointStats {
  requests: number;
  by_status: Record<number, number>;
  dropped_by_fault: number;
  delayed_by_fault: number;
}

/** Request bodies larger than this are refused (only session logins carry one). */
const MAX_BODY = 16 * 1024;

export class RedfishEndpoint {
  private server: http.Server | https.Server | undefined;
  private readonly sessions = new SessionTable();
  private readonly pending = new Set<TimerHandle>();
  private cache: { version: number; documents: ReadonlyMap<string, unknown> } | undefined;
  private readonly counters: RedfishEndpointStats = { requests: 0, by_status: {}, dropped_by_fault: 0, delayed_by_fault: 0 };

  constructor(private readonly opts: RedfishEndpointOptions) {}

  async start(): Promise<number> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.onRequest(req, res);
    const server = this.opts.tls ? https.createServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : http.createServer(handler);
    this.server = server;
    await bindOrStop(server, (ready) => server.listen(this.opts.port, this.opts.host, ready), {
      failure: `Redfish server cannot listen on ${this.opts.host}:${this.opts.port}/tcp`,
      on_error: (e) => this.opts.logger.warn('redfish server error', { device: this.opts.device.key, error: e }),
      stop: () => this.stop(),
    });
    return this.port();
  }

  async stop(): Promise<void> {
    for (const t of this.pending) t.cancel();
    this.pending.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeHttpServer(server);
  }

  port(): number {
    return boundPort(this.server, this.opts.port);
  }

  scheme(): 'http' | 'https' {
    return this.opts.tls ? 'https' : 'http';
  }

  stats(): RedfishEndpointStats {
    return { ...this.counters, by_status: { ...this.counters.by_status } };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counters.requests++;
    readBody(req, MAX_BODY, (text) => {
      if (text === undefined) return this.write(res, redfishError(413, 'PayloadTooLarge', `The request body exceeds ${MAX_BODY} bytes.`), 0);
      let decision: RequestDecision;
      let response: RedfishResponse;
      try {
        decision = this.opts.device.decide();
        if (decision.action === 'drop') {
          // No answer at all: the client's own timeout decides, as with a hung BMC.
          this.counters.dropped_by_fault++;
          return;
        }
        const url = new URL(req.url ?? '/', 'http://bmc');
        response = handleRedfish(
          { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), headers: req.headers, body: text },
          { documents: this.documents(), credentials: this.opts.device.credentials, sessions: this.sessions, bmc_now_ms: this.bmcNow() },
        );
      } catch (e) {
        this.opts.logger.warn('redfish request failed', { device: this.opts.device.key, error: e as Error });
        return this.write(res, redfishError(500, 'InternalError', 'The request failed due to an internal service error.'), 0);
      }
      this.write(res, response, decision.delay_ms);
    });
  }

  private bmcNow(): number {
    return this.opts.clock.now() + this.opts.device.clockSkewMs();
  }

  private documents(): ReadonlyMap<string, unknown> {
    const version = this.opts.device.version();
    if (this.cache?.version !== version) this.cache = { version, documents: this.opts.device.documents() };
    return this.cache.documents;
  }

  private write(res: http.ServerResponse, r: RedfishResponse, delay_ms: number): void {
    const send = () => {
      if (res.destroyed) return;
      this.counters.by_status[r.status] = (this.counters.by_status[r.status] ?? 0) + 1;
      const body = r.body === undefined ? '' : JSON.stringify(r.body);
      res.writeHead(r.status, { ...r.headers, Date: new Date(this.bmcNow()).toUTCString(), 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (delay_ms <= 0) return send();
    this.counters.delayed_by_fault++;
    const timer = this.opts.clock.setTimeout(() => {
      this.pending.delete(timer);
      send();
    }, delay_ms);
    this.pending.add(timer);
  }
}
