import type { KpiCatalogue, KpiSpec } from '../../contract/kpi-catalogue.js';
import type { FieldKind, FieldSpec, MeasurementSpec, StorageSchema, TagSpec } from '../../contract/storage-schema.js';
import { KPI_CATALOGUE } from '../../collector/kpi/registry/index.js';
import { KPI_FIXED_FIELD_SPECS } from '../../collector/store/kpi-schema.js';
import { parseInfluxQl, type Column, type Dimension, type Expr, type SelectStatement, type ShowTagValuesStatement, type Source } from './parse.js';

/**
 * Checks that an InfluxQL query names only what the pipeline writes (contract/storage-schema.ts):
 * every measurement, every field (with a type that fits the function applied to it), every tag,
 * and every value compared with a tag or field whose values are a closed set (KPI names,
 * windows, basis labels, meter roles, qualities …). On `kpi`, a query that pins the KPI name
 * may only use that KPI's windows, basis labels and inputs. Returns the problems; none = fine.
 */

/** What a FROM clause offers: the fields and tags a query may name. */
interface Scope {
  label: string;
  fields: Map<string, FieldSpec>;
  tags: Map<string, TagSpec>;
  /** Set on `kpi`: the KPIs the query is restricted to, for windows and basis. */
  kpis?: KpiSpec[];
}

const NUMERIC_FUNCTIONS = new Set([
  'mean', 'median', 'sum', 'min', 'max', 'spread', 'stddev', 'integral', 'percentile', 'derivative', 'non_negative_derivative',
  'difference', 'non_negative_difference', 'moving_average', 'cumulative_sum', 'elapsed', 'abs', 'round', 'floor', 'ceil',
]);
const ANY_FUNCTIONS = new Set(['last', 'first', 'count', 'distinct', 'mode', 'sample', 'top', 'bottom']);

export function checkInfluxQl(query: string, schema: StorageSchema, kpis: KpiCatalogue = KPI_CATALOGUE): string[] {
  let statements;
  try {
    statements = parseInfluxQl(query);
  } catch (e) {
    return [`does not parse: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  for (const s of statements) {
    if (s.kind === 'select') checkSelect(s, schema, problems, kpis);
    else checkShowTagValues(s, schema, problems);
  }
  return problems;
}

function measurementScope(name: string, spec: MeasurementSpec): Scope {
  return { label: name, fields: new Map(Object.entries(spec.fields)), tags: new Map(Object.entries(spec.tags)) };
}

/** Comparisons joined by AND at the top of a WHERE clause: what every row satisfies. */
function conjuncts(e: Expr | undefined): Expr[] {
  if (!e) return [];
  if (e.t === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** `^(a|b)$` or `^a$` → [a, b]; any other regex → undefined (its matches cannot be listed). */
export function regexAlternatives(re: string): string[] | undefined {
  const m = /^\^(?:\((.*)\)|(.*))\$$/.exec(re);
  if (!m) return undefined;
  const body = m[1] ?? m[2]!;
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) part += body[++i];
    else if (c === '|') {
      parts.push(part);
      part = '';
    } else if ('.*+?^$()[]{}'.includes(c)) return undefined;
    else part += c;
  }
  parts.push(part);
  // `^a|b$` without the group means "starts with a or ends with b": not a list.
  return m[1] === undefined && parts.length > 1 ? undefined : parts;
}

/** The literal values a comparison lets through: `= 'x'` → [x]; `=~ /^(x|y)$/` → [x, y]. */
function pinnedValues(e: Expr, name: string): string[] | undefined {
  if (e.t !== 'binary' || e.left.t !== 'ident' || e.left.name !== name) return undefined;
  if (e.op === '=' && e.right.t === 'string') return [e.right.value];
  if (e.op === '=~' && e.right.t === 'regex') return regexAlternatives(e.right.value);
  return undefined;
}

/** On `kpi`, a pinned KPI name narrows the fields to its inputs and the windows and basis to its own. */
function narrowKpi(scope: Scope, where: Expr | undefined, problems: string[], kpis: KpiCatalogue): Scope {
  const names = conjuncts(where)
    .map((c) => pinnedValues(c, 'kpi'))
    .find((v) => v !== undefined);
  if (!names) return scope;
  const specs: KpiSpec[] = [];
  for (const n of names) {
    const spec = kpis.get(n);
    if (spec) specs.push(spec);
    else problems.push(`kpi: no KPI named ${JSON.stringify(n)}`);
  }
  if (specs.length === 0) return scope;
  const allowed = new Set([...Object.keys(KPI_FIXED_FIELD_SPECS), ...specs.flatMap((s) => s.inputs)]);
  const fields = new Map([...scope.fields].filter(([f]) => allowed.has(f)));
  return { ...scope, label: `kpi (${names.join(', ')})`, fields, kpis: specs };
}

function sourceScope(src: Source, where: Expr | undefined, schema: StorageSchema, problems: string[], kpis: KpiCatalogue): Scope | undefined {
  if (src.t === 'regex') {
    problems.push(`FROM /${src.value}/: name the measurements, a regex hides what the panel reads`);
    return undefined;
  }
  if (src.t === 'subquery') return subqueryScope(src.query, schema, problems, kpis);
  const spec = schema.get(src.name);
  if (!spec) {
    problems.push(`no measurement named ${JSON.stringify(src.name)}`);
    return undefined;
  }
  const scope = measurementScope(src.name, spec);
  return src.name === 'kpi' ? narrowKpi(scope, where, problems, kpis) : scope;
}

/** The columns a subquery hands to its outer query: its output names and its GROUP BY tags. */
function subqueryScope(q: SelectStatement, schema: StorageSchema, problems: string[], kpis: KpiCatalogue): Scope | undefined {
  const inner = checkSelect(q, schema, problems, kpis);
  if (!inner) return undefined;
  const fields = new Map<string, FieldSpec>();
  for (const c of q.columns) {
    const name = outputName(c);
    if (name === undefined) problems.push('a subquery column needs a name: add AS "…"');
    else fields.set(name, { kind: outputKind(c.expr, inner) });
  }
  const tags = new Map<string, TagSpec>();
  for (const d of q.groupBy) if (d.t === 'tag') tags.set(d.name, inner.tags.get(d.name) ?? {});
  return { label: 'subquery', fields, tags };
}

function outputName(c: Column): string | undefined {
  if (c.alias !== undefined) return c.alias;
  if (c.expr.t === 'ident') return c.expr.name;
  if (c.expr.t === 'call') return c.expr.fn;
  return undefined;
}

function outputKind(e: Expr, scope: Scope): FieldKind {
  if (e.t === 'ident') return scope.fields.get(e.name)?.kind ?? 'string';
  if (e.t === 'call' && ['last', 'first', 'distinct', 'mode', 'sample', 'max', 'min'].includes(e.fn) && e.args[0]?.t === 'ident') return scope.fields.get(e.args[0].name)?.kind ?? 'float';
  if (e.t === 'call' && e.fn === 'count') return 'integer';
  return 'float';
}

/** Every source must offer the name: a query over several measurements reads the same column in each. */
function intersect(scopes: Scope[]): Scope {
  const [first, ...rest] = scopes as [Scope, ...Scope[]];
  const keep = <T>(m: Map<string, T>, pick: (s: Scope) => Map<string, T>) => new Map([...m].filter(([k]) => rest.every((s) => pick(s).has(k))));
  return {
    label: scopes.map((s) => s.label).join(', '),
    fields: keep(first.fields, (s) => s.fields),
    tags: keep(first.tags, (s) => s.tags),
    ...(scopes.some((s) => s.kpis) ? { kpis: scopes.flatMap((s) => s.kpis ?? []) } : {}),
  };
}

function checkSelect(q: SelectStatement, schema: StorageSchema, problems: string[], kpis: KpiCatalogue): Scope | undefined {
  const scopes = q.sources.map((s) => sourceScope(s, q.where, schema, problems, kpis));
  if (scopes.some((s) => s === undefined)) return undefined;
  const scope = intersect(scopes as Scope[]);
  let fieldSelected = false;
  for (const c of q.columns) {
    if (c.expr.t === 'ident') {
      if (scope.fields.has(c.expr.name)) fieldSelected = true;
      else if (!scope.tags.has(c.expr.name)) problems.push(`SELECT: ${scope.label} has no field or tag ${JSON.stringify(c.expr.name)}`);
    } else {
      fieldSelected = true;
      checkValueExpr(c.expr, scope, problems);
    }
  }
  if (!fieldSelected) problems.push('SELECT: at least one field must be selected (InfluxQL returns nothing for tags alone)');
  if (q.where) checkCondition(q.where, scope, problems);
  checkGroupBy(q.groupBy, scope, problems);
  const aggregated = q.columns.some((c) => containsCall(c.expr));
  if (q.groupBy.some((d) => d.t === 'time') && !aggregated) problems.push('GROUP BY time() needs an aggregate function in SELECT');
  if (q.groupBy.some((d) => d.t === 'time') && !hasTimeBound(q.where)) problems.push('GROUP BY time() needs a time range in WHERE ($timeFilter)');
  return scope;
}

function containsCall(e: Expr): boolean {
  if (e.t === 'call') return true;
  return e.t === 'binary' && (containsCall(e.left) || containsCall(e.right));
}

function hasTimeBound(e: Expr | undefined): boolean {
  return conjuncts(e).some((c) => c.t === 'binary' && (c.left.t === 'time' || c.right.t === 'time') && ['>', '>=', '='].includes(c.op));
}

/** A SELECT expression: functions of fields, arithmetic, constants. */
function checkValueExpr(e: Expr, scope: Scope, problems: string[], fn?: string): void {
  switch (e.t) {
    case 'wildcard':
      problems.push('SELECT *: name the fields, so the catalogue check sees them');
      return;
    case 'ident': {
      const f = scope.fields.get(e.name);
      if (!f) {
        problems.push(`${fn ? `${fn}(): ` : ''}${scope.label} has no field ${JSON.stringify(e.name)}${scope.tags.has(e.name) ? ' (it is a tag)' : ''}`);
        return;
      }
      const numeric = f.kind === 'float' || f.kind === 'integer';
      if ((fn === undefined || NUMERIC_FUNCTIONS.has(fn)) && !numeric) problems.push(`${fn ?? 'arithmetic'}: field ${JSON.stringify(e.name)} of ${scope.label} is ${f.kind}, not a number`);
      return;
    }
    case 'call': {
      if (!NUMERIC_FUNCTIONS.has(e.fn) && !ANY_FUNCTIONS.has(e.fn)) {
        problems.push(`unknown or unsupported function ${e.fn}()`);
        return;
      }
      const [first, ...rest] = e.args;
      if (!first) problems.push(`${e.fn}() needs a field`);
      else if (first.t === 'call') checkValueExpr(first, scope, problems);
      else checkValueExpr(first, scope, problems, e.fn);
      for (const a of rest) if (a.t !== 'number' && a.t !== 'duration') problems.push(`${e.fn}(): unexpected argument`);
      return;
    }
    case 'binary':
      checkValueExpr(e.left, scope, problems, fn);
      checkValueExpr(e.right, scope, problems, fn);
      return;
    case 'number':
      return;
    default:
      problems.push(`SELECT: unexpected ${e.t}`);
  }
}

function checkGroupBy(dims: Dimension[], scope: Scope, problems: string[]): void {
  for (const d of dims) {
    if (d.t === 'tag' && !scope.tags.has(d.name)) problems.push(`GROUP BY: ${scope.label} has no tag ${JSON.stringify(d.name)}${scope.fields.has(d.name) ? ' (it is a field; InfluxQL groups by tags only)' : ''}`);
    if (d.t === 'all' || d.t === 'regex') problems.push('GROUP BY * or a regex: name the tags');
  }
}

function checkCondition(e: Expr, scope: Scope, problems: string[]): void {
  if (e.t !== 'binary') {
    problems.push(`WHERE: unexpected ${e.t}`);
    return;
  }
  if (e.op === 'AND' || e.op === 'OR') {
    checkCondition(e.left, scope, problems);
    checkCondition(e.right, scope, problems);
    return;
  }
  const [ident, literal] = e.left.t === 'ident' ? [e.left, e.right] : e.right.t === 'ident' ? [e.right, e.left] : [undefined, undefined];
  if (!ident) return; // time comparisons and constant arithmetic
  const tag = scope.tags.get(ident.name);
  const field = scope.fields.get(ident.name);
  if (!tag && !field) {
    problems.push(`WHERE: ${scope.label} has no tag or field ${JSON.stringify(ident.name)}`);
    return;
  }
  const values = literal.t === 'string' && (e.op === '=' || e.op === '!=') ? [literal.value] : literal.t === 'regex' ? regexAlternatives(literal.value) : undefined;
  if (tag) {
    if (literal.t !== 'string' && literal.t !== 'regex') problems.push(`WHERE: tag ${JSON.stringify(ident.name)} holds text; compare it with a string or a regex`);
    // An empty string matches points without the tag (the device row of a PDU beside its phases).
    const closed = closedValues(ident.name, tag, scope);
    for (const v of values ?? []) if (closed && v !== '' && !closed.includes(v)) problems.push(`WHERE: ${JSON.stringify(v)} is not a value of tag ${JSON.stringify(ident.name)} in ${scope.label} (one of ${closed.join(', ')})`);
    return;
  }
  const kind = field!.kind;
  const fits = kind === 'string' ? literal.t === 'string' || literal.t === 'regex' : kind === 'boolean' ? literal.t === 'bool' : literal.t === 'number';
  if (!fits) problems.push(`WHERE: field ${JSON.stringify(ident.name)} is ${kind}; ${literal.t} does not compare with it`);
  for (const v of values ?? []) if (field!.values && !field!.values.includes(v)) problems.push(`WHERE: ${JSON.stringify(v)} is not a value of field ${JSON.stringify(ident.name)} (one of ${field!.values.join(', ')})`);
}

/** A tag's closed values, narrowed on `kpi` to the pinned KPIs' windows and basis labels. */
function closedValues(name: string, tag: TagSpec, scope: Scope): readonly string[] | undefined {
  if (scope.kpis && name === 'window') return [...new Set(scope.kpis.flatMap((k) => k.windows))];
  if (scope.kpis && name === 'basis') return [...new Set(scope.kpis.flatMap((k) => [...k.site_basis, ...k.cluster_basis]))];
  return tag.values;
}

function checkShowTagValues(s: ShowTagValuesStatement, schema: StorageSchema, problems: string[]): void {
  let scopes: Scope[];
  if (s.from !== undefined) {
    const spec = schema.get(s.from);
    if (!spec) {
      problems.push(`no measurement named ${JSON.stringify(s.from)}`);
      return;
    }
    scopes = [measurementScope(s.from, spec)];
  } else scopes = [...schema].map(([name, spec]) => measurementScope(name, spec));
  if (!Array.isArray(s.keys)) {
    problems.push('WITH KEY =~: name the tag');
    return;
  }
  for (const k of s.keys) if (!scopes.some((sc) => sc.tags.has(k))) problems.push(`WITH KEY: ${s.from ?? 'no measurement'} has no tag ${JSON.stringify(k)}`);
  if (s.where) {
    // Without FROM, each condition must make sense in some measurement that has the key.
    const holders = scopes.filter((sc) => Array.isArray(s.keys) && s.keys.some((k) => sc.tags.has(k)));
    const best = holders.map((sc) => {
      const p: string[] = [];
      checkCondition(s.where!, sc, p);
      return p;
    });
    if (best.length > 0 && best.every((p) => p.length > 0)) problems.push(...best[0]!);
  }
}
