import { resolveJsonPointer } from '../../shared/codec/json-pointer.js';

/**
 * Navigating Redfish documents as a profile's collections describe them (contract
 * RedfishProfileSchema): members of a collection, the `where` filter (ProcessorType = GPU), the
 * row index of a member and the link a point `follow`s. Pure: the Redfish reader fetches,
 * these decide. Every BMC answer is untrusted, so each function says why it refused.
 */
export type LinkResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Longest resource path accepted from a BMC. */
const MAX_PATH_CHARS = 512;
/** A row index must be a bounded identity (docs/design.md §7), like an SNMP table index. */
const INDEX_VALUE = /^[A-Za-z0-9_.:-]{1,32}$/;

/** A resource path the reader may GET: under /redfish/v1, no query, fragment, dot segment or space. */
export function isResourcePath(path: unknown): path is string {
  if (typeof path !== 'string' || path.length > MAX_PATH_CHARS) return false;
  if (path !== '/redfish/v1' && !path.startsWith('/redfish/v1/')) return false;
  if (/[?#\s\\]/.test(path)) return false;
  return !path.split('/').some((seg) => seg === '.' || seg === '..');
}

/** `{"@odata.id": "/redfish/v1/…"}` → the path. */
export function linkPath(link: unknown): LinkResult<string> {
  if (link === null || typeof link !== 'object' || Array.isArray(link)) return { ok: false, reason: 'not a link object' };
  const id = (link as Record<string, unknown>)['@odata.id'];
  if (!isResourcePath(id)) return { ok: false, reason: `@odata.id ${JSON.stringify(id)?.slice(0, 80)} is not a /redfish/v1 resource path` };
  return { ok: true, value: id.replace(/\/+$/, '') || '/redfish/v1' };
}

/** The member paths of a collection document (its `Members` array of links), in order. */
export function collectionMembers(doc: unknown): LinkResult<string[]> {
  const members = resolveJsonPointer(doc, '/Members');
  if (!members.ok) return { ok: false, reason: `collection has no Members: ${members.reason}` };
  if (!Array.isArray(members.value)) return { ok: false, reason: 'Members is not an array' };
  const paths: string[] = [];
  for (const [i, m] of members.value.entries()) {
    const p = linkPath(m);
    if (!p.ok) return { ok: false, reason: `Members[${i}]: ${p.reason}` };
    paths.push(p.value);
  }
  return { ok: true, value: paths };
}

/** Whether a member passes a collection's `where` filter (strict equality of JSON values). */
export function matchesWhere(doc: unknown, where: { pointer: string; equals: string | number | boolean } | undefined): boolean {
  if (!where) return true;
  const v = resolveJsonPointer(doc, where.pointer);
  return v.ok && v.value === where.equals;
}

/** The row index of a member: a string or integer at `index_pointer` (default `/Id`). */
export function memberIndex(doc: unknown, pointer: string): LinkResult<string> {
  const v = resolveJsonPointer(doc, pointer);
  if (!v.ok) return { ok: false, reason: `index: ${v.reason}` };
  const text = typeof v.value === 'string' ? v.value : typeof v.value === 'number' && Number.isSafeInteger(v.value) ? String(v.value) : undefined;
  if (text === undefined || !INDEX_VALUE.test(text)) return { ok: false, reason: `index ${JSON.stringify(v.value)?.slice(0, 40)} is not a short identifier` };
  return { ok: true, value: text };
}

/** The resource a member links to at `follow` (e.g. `/Metrics` → its ProcessorMetrics). */
export function followLink(doc: unknown, follow: string): LinkResult<string> {
  const v = resolveJsonPointer(doc, follow);
  if (!v.ok) return { ok: false, reason: `follow: ${v.reason}` };
  const p = linkPath(v.value);
  return p.ok ? p : { ok: false, reason: `follow ${follow}: ${p.reason}` };
}
