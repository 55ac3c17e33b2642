import type { RedfishPoint, RedfishProfile } from '../../contract/index.js';
import { toRaw } from '../../shared/codec/scale.js';
import { parseJsonPointer } from '../../shared/codec/json-pointer.js';
import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';

/**
 * The Redfish documents (DMTF DSP0266) a BMC serves for one device, encoded through its profile:
 * the inverse of what the agent's Redfish reader resolves. Pure: profile + quantities → path → JSON
 * body. Shaped like a real service so third-party clients can browse it from the service root:
 *
 * - every document has `@odata.id`, `@odata.type`, `Id` and `Name`;
 * - the service root links the top collections, each collection lists its `Members` (with
 *   `Members@odata.count`), each resource links the sub-resources the profile reads;
 * - a collection's rows become members `<TAG><n>` (GPU1, GPU2 … CPU1), carrying the `where`
 *   property (ProcessorType) and the row index where `index_pointer` says;
 * - a point that `follow`s a link gets the link in the member and its value in the target
 *   (Processor `Metrics` → …/ProcessorMetrics, `MemorySummary/Metrics` → …/MemorySummary/MemoryMetrics);
 * - a point without a quantity reads `null`, as a BMC says "no reading now".
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface RedfishEncoding {
  /** Resource path (no trailing slash) → document. */
  documents: Map<string, JsonObject>;
  /** Points whose quantity cannot be encoded, or whose pointer collides with another. */
  problems: string[];
}

export interface RedfishIdentity {
  /** Shown as the chassis and system Name (the device id in a seed). */
  name?: string | undefined;
}

const ROOT = '/redfish/v1';

/** @odata.type of the resources the built-in profiles touch (DMTF schema versions of 2024). */
const KNOWN_TYPES: readonly [RegExp, string][] = [
  [/^\/redfish\/v1$/, '#ServiceRoot.v1_17_0.ServiceRoot'],
  [/^\/redfish\/v1\/Chassis$/, '#ChassisCollection.ChassisCollection'],
  [/^\/redfish\/v1\/Chassis\/[^/]+$/, '#Chassis.v1_25_0.Chassis'],
  [/^\/redfish\/v1\/Systems$/, '#ComputerSystemCollection.ComputerSystemCollection'],
  [/^\/redfish\/v1\/Systems\/[^/]+$/, '#ComputerSystem.v1_22_0.ComputerSystem'],
  [/\/Processors$/, '#ProcessorCollection.ProcessorCollection'],
  [/\/Processors\/[^/]+$/, '#Processor.v1_20_0.Processor'],
  [/\/ProcessorMetrics$/, '#ProcessorMetrics.v1_6_4.ProcessorMetrics'],
  [/\/EnvironmentMetrics$/, '#EnvironmentMetrics.v1_3_2.EnvironmentMetrics'],
  [/\/MemoryMetrics$/, '#MemoryMetrics.v1_7_3.MemoryMetrics'],
];

export function encodeRedfishDocuments(profile: RedfishProfile, q: DeviceQuantities, who: RedfishIdentity = {}): RedfishEncoding {
  const documents = new Map<string, JsonObject>();
  const collections = new Set<string>(profile.collections.map((c) => c.collection));
  const problems: string[] = [];
  const problem = (point: string, why: string) => problems.push(`${profile.id}: ${point}: ${why}`);

  /** The document at a path, created on first use; `linked` ones are named by their parent. */
  const ensure = (path: string, linked = true): JsonObject => {
    let doc = documents.get(path);
    if (doc) return doc;
    const id = path === ROOT ? 'RootService' : (path.split('/').pop() as string);
    doc = { '@odata.id': path, '@odata.type': odataType(path, collections.has(path) || isTopCollection(path)), Id: id, Name: displayName(path, who) };
    if (path === ROOT) doc.RedfishVersion = '1.17.0';
    if (collections.has(path) || isTopCollection(path)) {
      doc.Members = [];
      doc['Members@odata.count'] = 0;
    }
    documents.set(path, doc);
    if (linked) linkFromParent(path);
    return doc;
  };
  // Parents link their children: a collection lists members, a resource names the sub-resource.
  const linkFromParent = (path: string) => {
    if (path === ROOT) return;
    const parentPath = path.slice(0, path.lastIndexOf('/'));
    if (!parentPath.startsWith(ROOT)) return;
    const parent = ensure(parentPath);
    const link = { '@odata.id': path };
    if (Array.isArray(parent.Members)) {
      if (!parent.Members.some((m) => (m as JsonObject)['@odata.id'] === path)) parent.Members.push(link);
      parent['Members@odata.count'] = parent.Members.length;
    } else {
      setOwn(parent, path.split('/').pop() as string, link);
    }
  };

  for (const r of profile.resources) {
    const doc = ensure(r.path);
    for (const p of r.points) put(doc, p.pointer, p, q.values[p.name], (why) => problem(p.name, why));
  }

  for (const c of profile.collections) {
    ensure(c.collection);
    const rows = q.rows[c.index_tag];
    if (!rows) continue;
    const tag = c.index_tag.toUpperCase();
    const owner = singular(c.collection.split('/').pop() as string);
    for (const [n, row] of [...rows].sort((a, b) => a[0] - b[0])) {
      const memberPath = `${c.collection}/${tag}${n}`;
      const member = ensure(memberPath);
      member.Name = `${owner} ${tag}${n}`;
      member.Status = { State: 'Enabled', Health: 'OK' };
      if (c.where) put(member, c.where.pointer, undefined, c.where.equals, (why) => problem(`where ${c.where?.pointer}`, why));
      if (c.index_pointer !== '/Id') put(member, c.index_pointer, undefined, n, (why) => problem(`index ${c.index_pointer}`, why));
      for (const p of c.points) {
        const fail = (why: string) => problem(p.name, why);
        if (p.follow === undefined) {
          put(member, p.pointer, p, row[p.name], fail);
          continue;
        }
        const target = followTarget(memberPath, owner, p.follow);
        if (!target) {
          fail(`follow ${p.follow} is not a JSON pointer to a link`);
          continue;
        }
        put(member, p.follow, undefined, target, fail, true);
        // The member's own link names the target; its path parent (…/MemorySummary) is no resource.
        const doc = ensure(target, false);
        put(doc, p.pointer, p, row[p.name], fail);
      }
    }
  }
  return { documents, problems };
}

/** Where a followed link points: `Metrics` is named after its owner (ProcessorMetrics, MemoryMetrics). */
export function followTarget(memberPath: string, owner: string, follow: string): string | undefined {
  const tokens = parseJsonPointer(follow);
  // Tokens become path segments: no separators, no dot segments.
  if (!tokens || tokens.length === 0 || tokens.some((t) => !/^[A-Za-z0-9_.-]+$/.test(t) || t === '.' || t === '..')) return undefined;
  const last = tokens[tokens.length - 1] as string;
  if (last === 'Metrics') {
    const of = tokens.length > 1 ? (tokens[tokens.length - 2] as string).replace(/Summary$/, '') : owner;
    return [memberPath, ...tokens.slice(0, -1), `${of}Metrics`].join('/');
  }
  return [memberPath, ...tokens].join('/');
}

/**
 * Write one value at a pointer, creating the objects on the way. `asLink` writes an
 * `{"@odata.id": …}` object. A pointer that runs into a value another point wrote is a problem.
 */
function put(doc: JsonObject, pointer: string, point: Pick<RedfishPoint, 'type' | 'scale' | 'offset' | 'enum'> | undefined, v: QuantityValue | boolean | undefined, fail: (why: string) => void, asLink = false): void {
  const tokens = parseJsonPointer(pointer);
  if (!tokens || tokens.length === 0) {
    fail(`pointer ${JSON.stringify(pointer)} names no property`);
    return;
  }
  let value: JsonValue;
  if (asLink) value = { '@odata.id': String(v) };
  else if (point === undefined) value = v === undefined ? null : (v as JsonValue);
  else {
    const enc = encodeRedfishValue(point, v);
    if (!enc.ok) fail(enc.problem);
    value = enc.ok ? enc.value : null;
  }
  let here: JsonObject = doc;
  for (const t of tokens.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(here, t) ? here[t] : undefined;
    if (next === undefined) {
      const created: JsonObject = {};
      setOwn(here, t, created);
      here = created;
    } else if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      here = next;
    } else {
      fail(`pointer ${pointer} runs into a value at ${JSON.stringify(t)}`);
      return;
    }
  }
  const key = tokens[tokens.length - 1] as string;
  const existing = Object.prototype.hasOwnProperty.call(here, key) ? here[key] : undefined;
  if (existing !== undefined && existing !== null && typeof existing === 'object' && !asLink) {
    fail(`pointer ${pointer} would replace an object`);
    return;
  }
  setOwn(here, key, value);
}

/** One quantity as the JSON value a BMC would publish, or why it cannot be. */
export type EncodedJson = { ok: true; value: JsonValue } | { ok: false; problem: string };

export function encodeRedfishValue(point: Pick<RedfishPoint, 'type' | 'scale' | 'offset' | 'enum'>, v: QuantityValue | boolean | undefined): EncodedJson {
  const ok = (value: JsonValue): EncodedJson => ({ ok: true, value });
  if (v === undefined) return ok(null);
  switch (point.type) {
    case 'string':
      return ok(String(v));
    case 'bool':
      return ok(typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : v !== '' && v !== 'false' && v !== 'off');
    case 'enum': {
      const key = Object.entries(point.enum ?? {}).find(([, name]) => name === v)?.[0];
      if (key === undefined) return { ok: false, problem: `no raw value maps to ${JSON.stringify(v)}` };
      return ok(/^-?\d+$/.test(key) ? Number(key) : key);
    }
    case 'number': {
      if (typeof v !== 'number') return { ok: false, problem: `${JSON.stringify(v)} is not a number` };
      const raw = toRaw(v, point.scale, point.offset);
      // JSON has no NaN or Infinity: a reading that is not a number is published as no reading.
      if (!Number.isFinite(raw)) return { ok: false, problem: `value ${v} has no finite raw value` };
      return ok(Number(raw.toPrecision(12)));
    }
  }
}

function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  // defineProperty, so a key such as "__proto__" is data, never the prototype.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Top-level collections of the service root (Chassis, Systems, Managers …); services are singletons. */
function isTopCollection(path: string): boolean {
  const rest = path.slice(ROOT.length + 1);
  return path.startsWith(`${ROOT}/`) && !rest.includes('/') && !rest.endsWith('Service');
}

function odataType(path: string, collection: boolean): string {
  for (const [re, type] of KNOWN_TYPES) if (re.test(path)) return type;
  const seg = path.split('/').pop() as string;
  return collection ? `#${singular(seg)}Collection.${singular(seg)}Collection` : `#${seg}.v1_0_0.${seg}`;
}

function singular(segment: string): string {
  if (segment === 'Chassis') return 'Chassis';
  if (segment === 'Systems') return 'ComputerSystem';
  return segment.replace(/ies$/, 'y').replace(/s$/, '');
}

function displayName(path: string, who: RedfishIdentity): string {
  if (path === ROOT) return 'Root Service';
  const parts = path.slice(ROOT.length + 1).split('/');
  if (parts.length === 1) return `${parts[0]} Collection`;
  if (parts.length === 2 && who.name) return who.name;
  return parts.slice(-2).join(' ');
}
