import { z } from 'zod';
import { ID_PATTERN } from '../../contract/index.js';
import { formatIssues } from '../../shared/config/load.js';
import { FAULT_KINDS, FaultSpecSchema, type FaultKind } from '../faults/fault-spec.js';
import type { SimSite } from '../sim-site.js';
import type { TruthQuery } from '../truth/truth-recorder.js';

/**
 * The simulator's control API, pure: a parsed HTTP request and the running sites in, a status
 * and a JSON body out (control-server.ts is the socket). Every body is validated with the
 * fault schema the seeds use; every error is `{error: {code, message, details?}}`.
 *
 *   GET    /health
 *   GET    /sites
 *   GET    /sites/{site}/listeners
 *   GET    /sites/{site}/devices
 *   GET    /sites/{site}/devices/{device}
 *   GET    /sites/{site}/devices/{device}/faults
 *   PUT    /sites/{site}/devices/{device}/faults/{kind}      body: the fault (kind optional)
 *   DELETE /sites/{site}/devices/{device}/faults/{kind}
 *   DELETE /sites/{site}/devices/{device}/faults
 *   GET    /sites/{site}/truth[?devices=false]
 *   GET    /sites/{site}/devices/{device}/truth
 *   GET    /sites/{site}/devices/{device}/values                what it serves now, faults applied
 *   GET    /truth[?devices=true]                              every site
 */

export interface ControlRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Raw body text (PUT only). */
  body: string;
}

export interface ControlResponse {
  status: number;
  body: unknown;
}

export interface ControlTarget {
  sites: readonly SimSite[];
  /** Real ms since the simulator started. */
  uptimeMs(): number;
}

type ErrorCode = 'not_found' | 'method_not_allowed' | 'invalid_json' | 'invalid_body' | 'invalid_query' | 'unprocessable' | 'conflict' | 'unavailable';

export function controlError(status: number, code: ErrorCode, message: string, details?: string[]): ControlResponse {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } } };
}

const ok = (body: unknown): ControlResponse => ({ status: 200, body });

const BoolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const LimitParam = z.coerce.number().int().min(0).max(100_000);

export function routeControl(req: ControlRequest, target: ControlTarget): ControlResponse {
  const parts = req.path.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  const method = req.method.toUpperCase();
  const only = (allowed: string, fn: () => ControlResponse): ControlResponse =>
    allowed.split(',').includes(method) ? fn() : controlError(405, 'method_not_allowed', `${method} is not allowed on ${req.path}; allowed: ${allowed}`);

  if (parts.length === 1 && parts[0] === 'health') return only('GET', () => health(target));
  if (parts.length === 1 && parts[0] === 'sites') return only('GET', () => ok(target.sites.map((s) => ({ site: s.id, name: s.name, devices: s.deviceIds().length, listeners: s.listeners().length }))));
  if (parts.length === 1 && parts[0] === 'truth') return only('GET', () => allTruth(req, target));
  if (parts[0] !== 'sites' || parts.length < 3) return controlError(404, 'not_found', `no route ${req.path}`);

  const site = target.sites.find((s) => s.id === parts[1]);
  if (!site) return controlError(404, 'not_found', `no site ${parts[1]}; sites: ${target.sites.map((s) => s.id).join(', ')}`);
  const [, , section, device, sub, kind, ...rest] = parts;
  if (rest.length > 0) return controlError(404, 'not_found', `no route ${req.path}`);
  if (section === 'listeners' && device === undefined) return only('GET', () => ok(site.listeners()));
  if (section === 'truth' && device === undefined) return only('GET', () => siteTruth(req, site));
  if (section !== 'devices') return controlError(404, 'not_found', `no route ${req.path}`);
  if (device === undefined) return only('GET', () => ok(site.endpoints()));
  if (!ID_PATTERN.test(device) || !site.deviceIds().includes(device)) return controlError(404, 'not_found', `no served device ${device} in site ${site.id}`);
  if (sub === undefined) return only('GET', () => deviceInfo(site, device));
  if (sub === 'truth' && kind === undefined) return only('GET', () => deviceTruth(site, device));
  if (sub === 'values' && kind === undefined) return only('GET', () => deviceValues(site, device));
  if (sub !== 'faults') return controlError(404, 'not_found', `no route ${req.path}`);
  if (kind === undefined) {
    return only('GET,DELETE', () => outcome(method === 'GET' ? site.faults(device) : site.removeFaults(device)));
  }
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) return controlError(404, 'not_found', `no fault kind ${kind}; kinds: ${FAULT_KINDS.join(', ')}`);
  return only('PUT,DELETE', () => (method === 'PUT' ? putFault(req, site, device, kind as FaultKind) : outcome(site.removeFaults(device, kind as FaultKind))));
}

function outcome<T>(r: { ok: true; value: T } | { ok: false; status: 404 | 409 | 422; message: string }): ControlResponse {
  if (r.ok) return ok(r.value);
  return controlError(r.status, r.status === 404 ? 'not_found' : r.status === 409 ? 'conflict' : 'unprocessable', r.message);
}

function putFault(req: ControlRequest, site: SimSite, device: string, kind: FaultKind): ControlResponse {
  let json: unknown;
  try {
    json = req.body.trim() === '' ? {} : JSON.parse(req.body);
  } catch (e) {
    return controlError(400, 'invalid_json', `the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return controlError(400, 'invalid_body', 'the body must be a JSON object describing the fault');
  const body = json as Record<string, unknown>;
  if (body.kind !== undefined && body.kind !== kind) return controlError(400, 'invalid_body', `body kind ${JSON.stringify(body.kind)} differs from the path's ${kind}`);
  const parsed = FaultSpecSchema.safeParse({ ...body, kind });
  if (!parsed.success) return controlError(400, 'invalid_body', `not a valid ${kind} fault`, formatIssues('body', parsed.error));
  return outcome(site.putFault(device, parsed.data));
}

function health(target: ControlTarget): ControlResponse {
  return ok({
    status: 'ok',
    uptime_s: Math.round(target.uptimeMs() / 1000),
    sites: target.sites.map((s) => ({ site: s.id, devices: s.deviceIds().length, listeners: s.listeners().length })),
  });
}

function deviceInfo(site: SimSite, device: string): ControlResponse {
  const endpoint = site.endpoints().find((e) => e.device === device);
  const faults = site.faults(device);
  return ok({ ...endpoint, faults: faults.ok ? faults.value : [] });
}

function deviceValues(site: SimSite, device: string): ControlResponse {
  const q = site.servedQuantities(device);
  if (!q) return controlError(404, 'not_found', `device ${device} serves no quantities`);
  const rows: Record<string, Record<string, unknown>> = {};
  for (const [tag, table] of Object.entries(q.rows)) if (table) rows[tag] = Object.fromEntries(table);
  return ok({ site: site.id, device, values: q.values, rows });
}

function deviceTruth(site: SimSite, device: string): ControlResponse {
  return truthOrUnavailable(() => {
    const t = site.truth();
    const d = t.devices[device];
    if (!d) return controlError(404, 'not_found', `device ${device} has no truth (not modelled)`);
    return ok({ site: site.id, device, ts: t.ts, sim_ts: t.sim_ts, ...d });
  });
}

function truthQuery(req: ControlRequest, devicesByDefault: boolean): TruthQuery | ControlResponse {
  const problems: string[] = [];
  const query: TruthQuery = { devices: devicesByDefault, limit: {} };
  for (const [key, value] of req.query) {
    if (key === 'devices') {
      const r = BoolParam.safeParse(value);
      if (r.success) query.devices = r.data;
      else problems.push(`devices: expected true or false, got ${value}`);
    } else if (key.startsWith('limit_') && ['15m', '1h', '1d', 'occupancy', '1mo', '1y'].includes(key.slice(6))) {
      const r = LimitParam.safeParse(value);
      if (r.success) query.limit![key.slice(6) as keyof NonNullable<TruthQuery['limit']>] = r.data;
      else problems.push(`${key}: expected an integer 0-100000, got ${value}`);
    } else {
      problems.push(`${key}: unknown parameter (devices, limit_15m, limit_1h, limit_1d, limit_occupancy, limit_1mo, limit_1y)`);
    }
  }
  return problems.length > 0 ? controlError(400, 'invalid_query', 'bad query parameters', problems) : query;
}

function siteTruth(req: ControlRequest, site: SimSite): ControlResponse {
  const q = truthQuery(req, true);
  if ('status' in q) return q;
  return truthOrUnavailable(() => ok(site.truth(undefined, q)));
}

function allTruth(req: ControlRequest, target: ControlTarget): ControlResponse {
  const q = truthQuery(req, false);
  if ('status' in q) return q;
  return truthOrUnavailable(() => ok({ sites: target.sites.map((s) => s.truth(undefined, q)) }));
}

function truthOrUnavailable(fn: () => ControlResponse): ControlResponse {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) return controlError(503, 'unavailable', e.message);
    throw e;
  }
}
