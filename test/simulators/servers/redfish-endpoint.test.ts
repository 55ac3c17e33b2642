import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { ANSWER_NOW, type RequestDecision } from '../../../simulators/faults/request-faults.js';
import { RedfishEndpoint } from '../../../simulators/servers/redfish-endpoint.js';
import { SessionTable, handleRedfish, type RedfishContext } from '../../../simulators/servers/redfish-service.js';
import { selfSignedTls } from '../../../simulators/servers/self-signed-tls.js';
import { missingTools, run } from '../external-tools.js';

const CHASSIS = '/redfish/v1/Chassis/1';
const DOCS = new Map<string, unknown>([
  ['/redfish/v1', { '@odata.id': '/redfish/v1', '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot', Chassis: { '@odata.id': '/redfish/v1/Chassis' } }],
  [CHASSIS, { '@odata.id': CHASSIS, PowerWatts: { Reading: 812.5 } }],
]);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const ctx = (over: Partial<RedfishContext> = {}): RedfishContext => ({ documents: DOCS, credentials: { username: 'admin', password: 's3cret' }, sessions: new SessionTable(), bmc_now_ms: Date.UTC(2026, 0, 1, 8), ...over });
const messageId = (body: unknown) => (body as { error: { '@Message.ExtendedInfo': { MessageId: string }[] } }).error['@Message.ExtendedInfo'][0]!.MessageId;

describe('Redfish service (DSP0266)', () => {
  it.each([
    ['the version document', 'GET', '/redfish', {}, 200],
    ['the service root, without credentials', 'GET', '/redfish/v1/', {}, 200],
    ['a resource without credentials', 'GET', CHASSIS, {}, 401],
    ['a resource with Basic auth', 'GET', CHASSIS, { authorization: basic('admin', 's3cret') }, 200],
    ['a resource with a trailing slash', 'GET', `${CHASSIS}/`, { authorization: basic('admin', 's3cret') }, 200],
    ['a resource with a wrong password', 'GET', CHASSIS, { authorization: basic('admin', 'nope') }, 401],
    ['HEAD on a resource', 'HEAD', CHASSIS, { authorization: basic('admin', 's3cret') }, 200],
    ['a missing resource', 'GET', '/redfish/v1/Chassis/9', { authorization: basic('admin', 's3cret') }, 404],
    ['a PATCH', 'PATCH', CHASSIS, { authorization: basic('admin', 's3cret') }, 405],
  ])('%s → %d', (_name, method, path, headers, status) => {
    const r = handleRedfish({ method, path, headers }, ctx());
    expect(r.status).toBe(status);
    if (status >= 400) expect(messageId(r.body)).toMatch(/^Base\.1\.\d+\.\w+$/);
  });

  it('links the session service and the manager from the service root', () => {
    const root = handleRedfish({ method: 'GET', path: '/redfish/v1', headers: {} }, ctx()).body as Record<string, unknown>;
    expect(root.Chassis).toEqual({ '@odata.id': '/redfish/v1/Chassis' });
    expect(root.Links).toEqual({ Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } });
    expect(root.Managers).toEqual({ '@odata.id': '/redfish/v1/Managers' });
  });

  it('shows the BMC clock in the manager (a clock skew moves it)', () => {
    const m = handleRedfish({ method: 'GET', path: '/redfish/v1/Managers/1', headers: { authorization: basic('admin', 's3cret') } }, ctx()).body as { DateTime: string };
    expect(m.DateTime).toBe('2026-01-01T08:00:00+00:00');
  });

  it('opens a session with a token, lists it and closes it', () => {
    const c = ctx();
    const bad = handleRedfish({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', headers: {}, body: '{"UserName":"admin","Password":"x"}' }, c);
    expect(bad.status).toBe(401);
    expect(handleRedfish({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', headers: {}, body: '{oops' }, c).status).toBe(400);
    const login = handleRedfish({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', headers: {}, body: '{"UserName":"admin","Password":"s3cret"}' }, c);
    expect(login.status).toBe(201);
    const token = login.headers['X-Auth-Token']!;
    expect(handleRedfish({ method: 'GET', path: CHASSIS, headers: { 'x-auth-token': token } }, c).status).toBe(200);
    const list = handleRedfish({ method: 'GET', path: '/redfish/v1/SessionService/Sessions', headers: { 'x-auth-token': token } }, c).body as { Members: unknown[] };
    expect(list.Members).toEqual([{ '@odata.id': login.headers.Location }]);
    expect(handleRedfish({ method: 'DELETE', path: login.headers.Location!, headers: { 'x-auth-token': token } }, c).status).toBe(204);
    expect(handleRedfish({ method: 'GET', path: CHASSIS, headers: { 'x-auth-token': token } }, c).status).toBe(401);
  });

  it('needs no credentials when the device has none', () => {
    expect(handleRedfish({ method: 'GET', path: CHASSIS, headers: {} }, ctx({ credentials: undefined })).status).toBe(200);
  });
});

const curlMissing = missingTools(['curl', 'openssl']);
const suite = curlMissing.length > 0 ? describe.skip : describe;

suite(`a BMC on its own HTTPS port${curlMissing.length > 0 ? ` (skipped: ${curlMissing.join(', ')})` : ''}`, () => {
  let decision: RequestDecision = ANSWER_NOW;
  let endpoint: RedfishEndpoint;
  let port: number;
  beforeAll(async () => {
    endpoint = new RedfishEndpoint({
      host: '127.0.0.1',
      port: 0,
      tls: await selfSignedTls(),
      logger: memoryLogger(),
      clock: new SystemClock(),
      device: { key: 'gpu-1', credentials: { username: 'admin', password: 's3cret' }, version: () => 1, documents: () => DOCS, decide: () => decision, clockSkewMs: () => 0 },
    });
    port = await endpoint.start();
  });
  afterAll(async () => endpoint?.stop());
  const curl = (path: string, ...extra: string[]) => run('curl', ['-sk', '--max-time', '2', '-w', '\n%{http_code}', ...extra, `https://127.0.0.1:${port}${path}`]);
  const split = (out: string) => {
    const i = out.lastIndexOf('\n');
    return { body: out.slice(0, i), status: Number(out.slice(i + 1)) };
  };

  it('curl reads a resource over HTTPS with Basic auth', async () => {
    const r = split((await curl(CHASSIS, '-u', 'admin:s3cret')).stdout);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ '@odata.id': CHASSIS, PowerWatts: { Reading: 812.5 } });
  });

  it('answers 401 and 404 as Redfish errors', async () => {
    const unauth = split((await curl(CHASSIS)).stdout);
    expect(unauth.status).toBe(401);
    expect(messageId(JSON.parse(unauth.body))).toMatch(/InsufficientPrivilege/);
    const missing = split((await curl('/redfish/v1/Nope', '-u', 'admin:s3cret')).stdout);
    expect(missing.status).toBe(404);
  });

  it('holds the answer when offline, so the client times out', async () => {
    decision = { action: 'drop', reason: 'offline' };
    const r = await run('curl', ['-sk', '--max-time', '0.5', '-u', 'admin:s3cret', `https://127.0.0.1:${port}${CHASSIS}`]);
    decision = ANSWER_NOW;
    expect(r.code).toBe(28);
  });

  it('refuses a huge body without reading it all', async () => {
    const r = split((await curl('/redfish/v1/SessionService/Sessions', '-X', 'POST', '--data-binary', 'x'.repeat(40_000))).stdout);
    expect(r.status).toBe(413);
  });
});
