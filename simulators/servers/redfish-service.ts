import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The HTTP side of a simulated BMC's Redfish service (DMTF DSP0266), pure apart from the session
 * table it is given: a request in, a response out. The resources come from the device profile's
 * encoder; this adds what every service has whatever the hardware: `/redfish`, the session
 * service (DSP0266 §13.3: the service root and `/redfish` need no authentication, everything else
 * Basic or a session token), a Manager with its clock (`DateTime`, which a clock_skew fault moves),
 * and errors shaped as the standard error response with a Base registry message.
 */

export interface RedfishRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body?: string | undefined;
}

export interface RedfishResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export interface RedfishCredentials {
  username: string;
  password: string;
}

export interface RedfishContext {
  /** Resources by path (`/redfish/v1/Chassis/1`), as the encoder produced them. */
  documents: ReadonlyMap<string, unknown>;
  /** Undefined: the service needs no authentication. */
  credentials: RedfishCredentials | undefined;
  sessions: SessionTable;
  /** The BMC's clock (real time plus any skew), ms since the epoch. */
  bmc_now_ms: number;
}

const ROOT = '/redfish/v1';
const SESSIONS = `${ROOT}/SessionService/Sessions`;
const MANAGER = `${ROOT}/Managers/1`;
const BASE_REGISTRY = 'Base.1.16';

export class SessionTable {
  private readonly byToken = new Map<string, { id: string; user: string }>();
  private next = 1;

  constructor(private readonly max = 64) {}

  open(user: string): { id: string; token: string } {
    const token = randomBytes(24).toString('hex');
    const id = String(this.next++);
    // A BMC keeps few sessions; the oldest gives way, as on most BMCs.
    if (this.byToken.size >= this.max) this.byToken.delete(this.byToken.keys().next().value!);
    this.byToken.set(token, { id, user });
    return { id, token };
  }

  byTokenValue(token: string): { id: string; user: string } | undefined {
    return this.byToken.get(token);
  }

  close(id: string): boolean {
    for (const [token, s] of this.byToken) {
      if (s.id === id) {
        this.byToken.delete(token);
        return true;
      }
    }
    return false;
  }

  ids(): string[] {
    return [...this.byToken.values()].map((s) => s.id);
  }
}

export function redfishError(status: number, messageId: string, message: string, extra: Record<string, string> = {}): RedfishResponse {
  return {
    status,
    headers: { ...JSON_HEADERS, ...extra },
    body: {
      error: {
        code: `${BASE_REGISTRY}.GeneralError`,
        message: 'A general error has occurred. See ExtendedInfo for more information.',
        '@Message.ExtendedInfo': [{ '@odata.type': '#Message.v1_1_1.Message', MessageId: `${BASE_REGISTRY}.${messageId}`, Message: message, Severity: 'Critical', MessageSeverity: 'Critical' }],
      },
    },
  };
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'OData-Version': '4.0' };

export function handleRedfish(req: RedfishRequest, ctx: RedfishContext): RedfishResponse {
  const path = normalise(req.path);
  const method = req.method.toUpperCase();
  if (path === '/redfish') return get(method, { v1: `${ROOT}/` });
  const docs = serviceDocuments(ctx);
  if (path === ROOT) return get(method, docs.get(ROOT));
  if (path === SESSIONS && method === 'POST') return login(req, ctx);
  const auth = authorise(req, ctx);
  if (auth) return auth;
  const sessionMatch = path.startsWith(`${SESSIONS}/`) ? path.slice(SESSIONS.length + 1) : undefined;
  if (sessionMatch !== undefined && method === 'DELETE') {
    return ctx.sessions.close(sessionMatch) ? { status: 204, headers: { 'OData-Version': '4.0' } } : notFound(path);
  }
  const doc = docs.get(path);
  if (doc === undefined) return notFound(path);
  return get(method, doc, path === SESSIONS ? 'GET, HEAD, POST' : 'GET, HEAD');
}

function normalise(path: string): string {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return p;
}

function get(method: string, doc: unknown, allow = 'GET, HEAD'): RedfishResponse {
  if (method !== 'GET' && method !== 'HEAD') return redfishError(405, 'OperationNotAllowed', `The HTTP method ${method} is not allowed on this resource.`, { Allow: allow });
  return { status: 200, headers: { ...JSON_HEADERS, Allow: allow }, body: method === 'HEAD' ? undefined : doc };
}

function notFound(path: string): RedfishResponse {
  return redfishError(404, 'ResourceNotFound', `The requested resource ${path} was not found.`);
}

function header(req: RedfishRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Undefined when the request may proceed; else the 401. */
function authorise(req: RedfishRequest, ctx: RedfishContext): RedfishResponse | undefined {
  const cred = ctx.credentials;
  if (!cred) return undefined;
  const token = header(req, 'x-auth-token');
  if (token !== undefined && ctx.sessions.byTokenValue(token)) return undefined;
  const basic = /^Basic\s+(\S+)$/i.exec(header(req, 'authorization') ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && sameSecret(decoded.slice(0, colon), cred.username) && sameSecret(decoded.slice(colon + 1), cred.password)) return undefined;
  }
  return redfishError(401, 'InsufficientPrivilege', 'There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.', {
    'WWW-Authenticate': 'Basic realm="Redfish"',
  });
}

function login(req: RedfishRequest, ctx: RedfishContext): RedfishResponse {
  let body: unknown;
  try {
    body = JSON.parse(req.body ?? '');
  } catch {
    return redfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.');
  }
  const user = (body as { UserName?: unknown } | null)?.UserName;
  const password = (body as { Password?: unknown } | null)?.Password;
  if (typeof user !== 'string' || typeof password !== 'string') {
    return redfishError(400, 'PropertyMissing', 'The properties UserName and Password are required to create a session.');
  }
  const cred = ctx.credentials;
  if (cred && !(sameSecret(user, cred.username) && sameSecret(password, cred.password))) {
    return redfishError(401, 'ResourceAtUriUnauthorized', 'While accessing the resource at /redfish/v1/SessionService/Sessions, the service received an authorization error: invalid credentials.');
  }
  const s = ctx.sessions.open(user);
  const location = `${SESSIONS}/${s.id}`;
  return {
    status: 201,
    headers: { ...JSON_HEADERS, Location: location, 'X-Auth-Token': s.token },
    body: { '@odata.id': location, '@odata.type': '#Session.v1_7_0.Session', Id: s.id, Name: 'User Session', UserName: user },
  };
}

/** ISO 8601 with the UTC offset, as BMCs print DateTime (`2026-01-01T08:00:00+00:00`). */
function isoDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** The encoder's resources plus the session service and the manager clock. */
function serviceDocuments(ctx: RedfishContext): ReadonlyMap<string, unknown> {
  const docs = new Map(ctx.documents);
  const root = { ...((docs.get(ROOT) as Record<string, unknown> | undefined) ?? { '@odata.id': ROOT, '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot', Id: 'RootService', Name: 'Root Service' }) };
  root.SessionService = { '@odata.id': `${ROOT}/SessionService` };
  root.Links = { ...((root.Links as Record<string, unknown> | undefined) ?? {}), Sessions: { '@odata.id': SESSIONS } };
  docs.set(`${ROOT}/SessionService`, {
    '@odata.id': `${ROOT}/SessionService`,
    '@odata.type': '#SessionService.v1_1_9.SessionService',
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    Sessions: { '@odata.id': SESSIONS },
  });
  const ids = ctx.sessions.ids();
  docs.set(SESSIONS, {
    '@odata.id': SESSIONS,
    '@odata.type': '#SessionCollection.SessionCollection',
    Name: 'Session Collection',
    'Members@odata.count': ids.length,
    Members: ids.map((id) => ({ '@odata.id': `${SESSIONS}/${id}` })),
  });
  const now = isoDateTime(ctx.bmc_now_ms);
  const manager = docs.get(MANAGER) as Record<string, unknown> | undefined;
  if (manager) {
    docs.set(MANAGER, { ...manager, DateTime: now, DateTimeLocalOffset: '+00:00' });
  } else {
    root.Managers = { '@odata.id': `${ROOT}/Managers` };
    docs.set(`${ROOT}/Managers`, { '@odata.id': `${ROOT}/Managers`, '@odata.type': '#ManagerCollection.ManagerCollection', Name: 'Manager Collection', 'Members@odata.count': 1, Members: [{ '@odata.id': MANAGER }] });
    docs.set(MANAGER, { '@odata.id': MANAGER, '@odata.type': '#Manager.v1_19_0.Manager', Id: '1', Name: 'Manager', ManagerType: 'BMC', DateTime: now, DateTimeLocalOffset: '+00:00', Status: { State: 'Enabled', Health: 'OK' } });
  }
  docs.set(ROOT, root);
  return docs;
}
