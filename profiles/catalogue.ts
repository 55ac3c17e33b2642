import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DcimError } from '../contract/errors.js';
import { parseWith, parseYamlText } from '../shared/config/load.js';
import { DeviceProfileSchema, profilePoints, type DeviceProfile } from '../contract/profile.js';

/** Where the built-in profiles live (profiles/devices/), from source or from dist/. */
export function builtinProfileDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // profiles/ → ./devices ; dist/profiles/ → ../../profiles/devices (the YAML is not copied into dist/)
  for (const candidate of [join(here, 'devices'), join(here, '..', '..', 'profiles', 'devices')]) {
    try {
      if (readdirSync(candidate).some((f) => f.endsWith('.yaml'))) return resolve(candidate);
    } catch {
      // try the next candidate
    }
  }
  throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `cannot find the built-in profiles next to ${here}`);
}

/** Where a profile folder keeps the templates its profiles may extend. */
export const TEMPLATE_SUBDIR = 'templates';

type Raw = Record<string, unknown>;

interface TemplateFile {
  id: string;
  file: string;
  body: Raw;
}

const isRecord = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
  return parseYamlText(text, file);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

function problemsOf(e: unknown): string[] {
  return e instanceof DcimError && e.details.length > 0 ? [...e.details] : [(e as Error).message];
}

/**
 * Templates: shared parts of profiles (one UPS-MIB template that vendor UPS profiles extend), so a
 * fix to a standard MIB lands in every profile built on it. A template is a profile without `id`,
 * named by `template: <id>`, and may itself extend another template.
 *
 * A profile (or template) that says `extends: <template>` gets, before validation:
 * - `points`, `tables`, `resources`, `collections`, `test_vectors`, `checks`: the template's
 *   first, then its own. Redefining a template's point (same name) or SNMP table (same entry)
 *   is a conflict, reported, never a silent override: a vendor profile adds, it does not edit
 *   the standard.
 * - `quirks`: the template's, with the profile's keys over them.
 * - everything else (`class`, `vendor`, `model`, `match`, `description` …): the profile's value
 *   where it has one, else the template's. `protocol` must agree.
 */
export function applyTemplates(body: Raw, file: string, templates: ReadonlyMap<string, TemplateFile>, seen: readonly string[] = []): Raw {
  const name = body.extends;
  if (name === undefined) return body;
  if (typeof name !== 'string') throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: extends: expected a template id`, [`${file}: extends: expected a template id (a string)`]);
  if (seen.includes(name)) {
    const chain = [...seen, name].join(' → ');
    throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: template cycle`, [`${file}: extends: template cycle ${chain}`]);
  }
  const t = templates.get(name);
  if (!t) {
    const known = [...templates.keys()].sort().join(', ') || 'none';
    throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: unknown template ${name}`, [`${file}: extends: unknown template ${name} (known: ${known})`]);
  }
  const base = applyTemplates(t.body, t.file, templates, [...seen, name]);
  const problems: string[] = [];
  const out: Raw = {};
  for (const [k, v] of Object.entries(base)) if (k !== 'template' && k !== 'extends') out[k] = v;
  for (const [k, v] of Object.entries(body)) {
    if (k === 'extends') continue;
    const from = out[k];
    if (from === undefined) {
      out[k] = v;
      continue;
    }
    if (k === 'protocol' && from !== v) {
      problems.push(`${file}: protocol: ${String(v)} contradicts template ${name} (${String(from)})`);
    } else if (k === 'quirks' && isRecord(from) && isRecord(v)) {
      out[k] = { ...from, ...v };
    } else if (['points', 'tables', 'resources', 'collections', 'test_vectors', 'checks'].includes(k) && Array.isArray(from) && Array.isArray(v)) {
      problems.push(...conflicts(k, from, v, file, name));
      out[k] = [...from, ...v];
    } else out[k] = v;
  }
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} conflict(s) with template ${name}`, problems);
  return out;
}

/** A profile's entries that would redefine its template's: same point name, same SNMP table. */
function conflicts(key: string, from: unknown[], own: unknown[], file: string, template: string): string[] {
  const out: string[] = [];
  const names = (xs: unknown[]) => new Set(xs.flatMap((x) => (isRecord(x) ? [x.name, ...(Array.isArray(x.columns) ? x.columns.map((c) => (isRecord(c) ? c.name : undefined)) : [])] : [])).filter((n): n is string => typeof n === 'string'));
  const inherited = names(from);
  const entries = new Set(from.map((x) => (isRecord(x) ? x.entry : undefined)).filter((e) => typeof e === 'string'));
  own.forEach((x, i) => {
    if (!isRecord(x) || key === 'test_vectors' || key === 'checks') return;
    if (typeof x.entry === 'string' && entries.has(x.entry)) out.push(`${file}: ${key}[${i}].entry: table ${x.entry} is already read by template ${template}: add columns there, or leave the template`);
    for (const n of names([x])) {
      if (inherited.has(n)) out.push(`${file}: ${key}[${i}]: point ${n} is already defined by template ${template}: a profile adds points, it does not redefine them`);
    }
  });
  return out;
}

/** Every template under `<dir>/templates/` of the given folders; a later folder may not redefine one. */
function loadTemplates(dirs: readonly string[], problems: string[]): Map<string, TemplateFile> {
  const templates = new Map<string, TemplateFile>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = yamlFiles(join(dir, TEMPLATE_SUBDIR));
    } catch {
      continue; // a folder without templates
    }
    for (const file of files) {
      try {
        const body = readYaml(file);
        if (!isRecord(body)) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: not a mapping`, [`${file}: (root): expected a mapping`]);
        const id = body.template;
        if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(id)) {
          problems.push(`${file}: template: expected the template's id (lower-case letters, digits, - and _)`);
          continue;
        }
        if ('id' in body) problems.push(`${file}: id: a template has no profile id (it names itself with template:)`);
        const stem = file.slice(file.lastIndexOf('/') + 1).replace(/\.ya?ml$/, '');
        if (stem !== id) problems.push(`${file}: template: ${id} is not the file name (${stem})`);
        if (templates.has(id)) problems.push(`${file}: template: duplicate template id ${id}`);
        else templates.set(id, { id, file, body });
      } catch (e) {
        problems.push(...problemsOf(e));
      }
    }
  }
  return templates;
}

/** Which template each profile extends, directly or through another template (for the catalogue). */
export function templateChain(body: unknown, templates: ReadonlyMap<string, { body: Raw }>): string[] {
  const chain: string[] = [];
  let at = isRecord(body) ? body.extends : undefined;
  while (typeof at === 'string' && !chain.includes(at)) {
    chain.push(at);
    const next = templates.get(at)?.body;
    at = next ? next.extends : undefined;
  }
  return chain;
}

/** The templates of the given folders, for tools that show where a profile's points come from. */
export function loadProfileTemplates(dirs: readonly string[] = [builtinProfileDir()]): Map<string, TemplateFile> {
  const problems: string[] = [];
  const t = loadTemplates(dirs, problems);
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `profile templates: ${problems.length} problem(s)`, problems);
  return t;
}

export interface LoadProfilesOptions {
  /**
   * Build only the profiles with these ids (an agent needs only those its devices name). Every
   * file is still read and every id checked for duplicates; a profile outside the set is neither
   * validated nor kept, which saves an agent the memory of the whole catalogue. Unset: all.
   */
  readonly only?: ReadonlySet<string>;
}

/**
 * Load and validate every `*.yaml` profile in the given folders, templates applied (see
 * applyTemplates). All problems in all files are collected and reported at once; a later folder
 * may not redefine an id.
 */
export function loadProfiles(dirs: readonly string[] = [builtinProfileDir()], opts: LoadProfilesOptions = {}): Map<string, DeviceProfile> {
  const only = opts.only;
  const skipped = new Map<string, string>();
  const profiles = new Map<string, DeviceProfile>();
  const problems: string[] = [];
  const templates = loadTemplates(dirs, problems);
  for (const dir of dirs) {
    let files: string[];
    try {
      files = yamlFiles(dir);
    } catch (e) {
      problems.push(`${dir}: cannot read profile folder: ${(e as Error).message}`);
      continue;
    }
    for (const file of files) {
      try {
        const raw = readYaml(file);
        if (only !== undefined && isRecord(raw) && typeof raw.id === 'string' && !only.has(raw.id)) {
          const earlier = skipped.get(raw.id);
          if (earlier !== undefined) problems.push(`${file}: id: duplicate profile id ${raw.id} (also in ${earlier})`);
          else skipped.set(raw.id, file);
          continue;
        }
        const body = isRecord(raw) ? applyTemplates(raw, file, templates) : raw;
        // Paths in errors count the template's entries first: name the template so they can be found.
        const label = isRecord(raw) && typeof raw.extends === 'string' ? `${file} (with template ${templateChain(raw, templates).join(' < ')})` : file;
        const p = parseWith(DeviceProfileSchema, body, label);
        const names = new Set<string>();
        const allNames = profilePoints(p).map((x) => x.name);
        for (const n of allNames) {
          if (names.has(n)) problems.push(`${file}: points: duplicate point name ${n}`);
          names.add(n);
        }
        for (const [i, v] of p.test_vectors.entries()) {
          if (!names.has(v.point)) problems.push(`${label}: test_vectors[${i}].point: no point named ${v.point}`);
        }
        if (profiles.has(p.id)) problems.push(`${file}: id: duplicate profile id ${p.id}`);
        else profiles.set(p.id, p);
      } catch (e) {
        problems.push(...problemsOf(e));
      }
    }
  }
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `device profiles: ${problems.length} problem(s)`, problems);
  return profiles;
}
