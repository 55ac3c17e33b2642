/** How every simulator endpoint binds, reports its port, reads a request body and closes. */
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';

export interface BindOptions {
  /** The start of the error message when binding fails: "Modbus server cannot listen on 127.0.0.1:502/tcp". */
  failure: string;
  /** Errors after the bind (a socket error while serving): logged, never thrown. */
  on_error: (e: Error) => void;
  /** Undoes a half-done start (timers, sockets) before the bind error is thrown. */
  stop: () => Promise<void>;
}

/**
 * Binds a server or socket (`bind` calls `ready` once it listens). A bind error (port in use,
 * address not available) stops the endpoint and is thrown with `failure` and the reason; errors
 * after the bind go to `on_error`. Every simulator endpoint starts this way.
 */
export async function bindOrStop(target: EventEmitter, bind: (ready: () => void) => void, o: BindOptions): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(new Error(`${o.failure}: ${e.message}`, { cause: e }));
      target.once('error', fail);
      bind(() => {
        target.off('error', fail);
        target.on('error', o.on_error);
        resolve();
      });
    });
  } catch (e) {
    await o.stop();
    throw e;
  }
}

/** The port a TCP server is bound to (port 0 resolved), else the configured one. */
export function boundPort(server: net.Server | undefined, configured: number): number {
  const a = server?.address();
  return typeof a === 'object' && a !== null ? a.port : configured;
}

/** Closes an HTTP(S) server now: idle keep-alive connections too, which close() alone waits for. */
export function closeHttpServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Reads a request body of at most `max_bytes`, then calls `done` with it as UTF-8, or with
 * undefined when it was longer (the rest is read and discarded, so the answer can still be sent).
 */
export function readBody(req: http.IncomingMessage, max_bytes: number, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= max_bytes) chunks.push(c);
  });
  req.on('error', () => undefined);
  req.on('end', () => done(size > max_bytes ? undefined : Buffer.concat(chunks).toString('utf8')));
}
