/**
 * JSON Pointer (RFC 6901): how Redfish profiles name a value inside a resource
 * (`/PowerWatts/Reading`, `/Oem/Vendor~1Name`). Pure.
 *
 * Resolution never walks the prototype chain: a pointer such as `/__proto__` or `/constructor`
 * finds nothing unless the document itself has that key (BMC JSON is untrusted input).
 */
export type PointerResult = { ok: true; value: unknown } | { ok: false; reason: string };

/** Reference tokens of a pointer, unescaped (`~1` → `/`, then `~0` → `~`); undefined if malformed. */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  const out: string[] = [];
  for (const t of tokens) {
    // Any "~" must start "~0" or "~1" (RFC 6901 §3); "~2", a trailing "~" … are errors.
    if (/~(?![01])/.test(t)) return undefined;
    out.push(t.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return out;
}

/** The inverse of parseJsonPointer: escape `~` then `/` in each token. */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The value a pointer names in a parsed JSON document. */
export function resolveJsonPointer(doc: unknown, pointer: string): PointerResult {
  const tokens = parseJsonPointer(pointer);
  if (tokens === undefined) return { ok: false, reason: `malformed JSON pointer ${JSON.stringify(pointer)}` };
  let here: unknown = doc;
  let at = '';
  for (const token of tokens) {
    at = `${at}/${token}`;
    if (Array.isArray(here)) {
      // "-" names the element after the last one: it never exists when reading.
      if (!ARRAY_INDEX.test(token)) return { ok: false, reason: `${at}: ${JSON.stringify(token)} is not an array index` };
      const i = Number(token);
      if (i >= here.length) return { ok: false, reason: `${at}: index ${i} past the end (${here.length} elements)` };
      here = here[i];
    } else if (here !== null && typeof here === 'object') {
      if (!Object.prototype.hasOwnProperty.call(here, token)) return { ok: false, reason: `${at}: no such member` };
      here = (here as Record<string, unknown>)[token];
    } else {
      return { ok: false, reason: `${at}: cannot step into ${here === null ? 'null' : typeof here}` };
    }
  }
  return { ok: true, value: here };
}
