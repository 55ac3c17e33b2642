import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBoundedGetClient, type BoundedGetClient } from '../../../agent/http/bounded-get.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
const clients: BoundedGetClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function serve(handler: Handler): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function client(port: number, maxBodyBytes = 64): BoundedGetClient {
  const c = createBoundedGetClient({ scheme: 'http', host: '127.0.0.1', port, verifyTls: true, maxSockets: 2, maxBodyBytes });
  clients.push(c);
  return c;
}

describe('bounded GET', () => {
  it('returns status, headers and body, and sends the given headers', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const port = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    const got = await client(port).get('/x', { 'X-Probe': 'yes' }, 5000);
    expect(got).toMatchObject({ ok: true, status: 200 });
    if (!got.ok) throw new Error(got.message);
    expect(got.body.toString()).toBe('hello');
    expect(got.headers['content-type']).toBe('text/plain');
    expect(seen['x-probe']).toBe('yes');
  });

  it('refuses a body whose declared content-length is over the limit', async () => {
    const port = await serve((_req, res) => res.writeHead(200, { 'content-length': '100' }).end('x'.repeat(100)));
    expect(await client(port).get('/big', {}, 5000)).toEqual({ ok: false, kind: 'too_large', message: '/big: body of 100 bytes exceeds 64' });
  });

  it('cuts off a streamed body once it passes the limit, without waiting for its end', async () => {
    // Chunked, no content-length; the server never ends the response, so only the limit can settle it.
    const port = await serve((_req, res) => {
      res.writeHead(200);
      res.write('x'.repeat(40));
      setTimeout(() => res.write('x'.repeat(40)), 20);
    });
    expect(await client(port).get('/stream', {}, 60_000)).toEqual({ ok: false, kind: 'too_large', message: '/stream: body exceeds 64 bytes' });
  });

  it('accepts a body of exactly the limit', async () => {
    const port = await serve((_req, res) => res.writeHead(200).end('y'.repeat(64)));
    const got = await client(port).get('/edge', {}, 5000);
    expect(got.ok && got.body.length).toBe(64);
  });

  it('times out a peer that sends headers and then stalls, and drops that connection', async () => {
    let dropped = false;
    const port = await serve((req, res) => {
      req.socket.on('close', () => (dropped = true));
      res.writeHead(200);
      res.write('partial');
    });
    expect(await client(port).get('/slow', {}, 100)).toEqual({ ok: false, kind: 'timeout', message: '/slow: no complete answer within 100 ms' });
    // A stalled connection must not go back to the pool, nor stay open until close().
    await expect.poll(() => dropped).toBe(true);
  });

  it('reports 401 and 403 as auth', async () => {
    const port = await serve((req, res) => res.writeHead(req.url === '/a' ? 401 : 403).end('no'));
    const c = client(port);
    expect(await c.get('/a', {}, 5000)).toEqual({ ok: false, kind: 'auth', status: 401, message: 'HTTP 401 for /a' });
    expect(await c.get('/b', {}, 5000)).toEqual({ ok: false, kind: 'auth', status: 403, message: 'HTTP 403 for /b' });
  });

  it('reports a 5xx as http with its status, and names a redirect target without following it', async () => {
    const port = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(301, { location: 'https://127.0.0.1/elsewhere' }).end();
      else res.writeHead(503).end('busy');
    });
    const c = client(port);
    expect(await c.get('/down', {}, 5000)).toEqual({ ok: false, kind: 'http', status: 503, message: 'HTTP 503 for /down' });
    expect(await c.get('/moved', {}, 5000)).toEqual({ ok: false, kind: 'http', status: 301, location: 'https://127.0.0.1/elsewhere', message: 'HTTP 301 for /moved' });
  });

  it('lets the caller refuse a 2xx answer by its headers before the body is read', async () => {
    const port = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const got = await client(port).get('/m', {}, 5000, (res) =>
      res.headers['content-type'] === 'application/json' ? { kind: 'wrong_type' as const, message: 'not text' } : undefined,
    );
    expect(got).toEqual({ ok: false, kind: 'wrong_type', message: 'not text' });
  });

  it('refuses requests after close and drops its pooled connections', async () => {
    let open = 0;
    const port = await serve((_req, res) => res.writeHead(200).end('ok'));
    servers[0]!.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    const c = client(port);
    expect((await c.get('/', {}, 5000)).ok).toBe(true);
    expect(open).toBe(1); // kept alive by the pool
    c.close();
    expect(await c.get('/', {}, 5000)).toEqual({ ok: false, kind: 'connect', message: 'transport closed' });
    await expect.poll(() => open).toBe(0);
  });

  it('reports a refused connection as connect', async () => {
    const port = await serve((_req, res) => res.end());
    const s = servers.pop()!;
    await new Promise<void>((r) => s.close(() => r()));
    const got = await client(port).get('/gone', {}, 5000);
    expect(got).toMatchObject({ ok: false, kind: 'connect' });
    expect(!got.ok && got.message).toMatch(/^\/gone: .*ECONNREFUSED/);
  });
});
