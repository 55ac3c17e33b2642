/**
 * Grafana's substitutions in an InfluxQL query, done the way Grafana does them for a given
 * range and variable values: `$timeFilter` becomes an absolute time range in ms, `$__interval`
 * the group interval, `$name`, `${name}` and `[[name]]` the variable's value. Tests use it to run
 * a panel's query against a real InfluxDB; the catalogue check uses it to expand every option
 * of a custom variable.
 */
export interface QueryContext {
  from_ms: number;
  to_ms: number;
  /** An InfluxQL duration, e.g. `1m`. */
  interval: string;
  vars: Readonly<Record<string, string>>;
}

export function expandMacros(query: string, ctx: QueryContext): string {
  const unknown = new Set<string>();
  const out = query.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (name === 'timeFilter') return `time >= ${Math.floor(ctx.from_ms)}ms AND time <= ${Math.ceil(ctx.to_ms)}ms`;
    if (name === '__interval') return ctx.interval;
    const v = ctx.vars[name];
    if (v === undefined) {
      unknown.add(whole);
      return whole;
    }
    return v;
  });
  if (unknown.size > 0) throw new Error(`unknown Grafana variable(s) ${[...unknown].join(', ')} in: ${query}`);
  return out;
}

/** The variable names a query uses (`$timeFilter` and `$__interval` excluded). */
export function variablesIn(query: string): string[] {
  const names = new Set<string>();
  for (const m of query.matchAll(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g)) {
    const name = (m[1] ?? m[2] ?? m[3])!;
    if (name !== 'timeFilter' && name !== '__interval') names.add(name);
  }
  return [...names];
}
