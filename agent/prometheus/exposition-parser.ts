/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4 (the format every
 * exporter serves by default). Pure: text in, samples and problems out.
 *
 * A line that breaks the format is reported with its number and reason and skipped; every other
 * line is still read, so one bad label value does not cost the other GPUs' readings.
 * What is refused:
 * - a label value with an escape other than `\\`, `\"`, `\n`, or without its closing quote;
 * - a sample without a value, a value that is not a Go float (`NaN`, `+Inf`, `-Inf` are floats),
 *   a timestamp that is not an integer, anything after the timestamp;
 * - a second HELP or TYPE line for one metric, a TYPE after the metric's first sample, an unknown
 *   type;
 * - a label named twice in one sample, a series (name and label set) repeated in one scrape;
 * - a line longer than `maxLineChars`.
 * Timestamps are checked and kept but the agent stamps readings with its own poll time.
 */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
  timestampMs?: number;
}

export interface ParseProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

export interface Exposition {
  samples: Sample[];
  /** Every refused line (`problemCount`), the first `MAX_KEPT_PROBLEMS` with their reasons. */
  problems: ParseProblem[];
  problemCount: number;
  types: ReadonlyMap<string, string>;
}

export interface ParseOptions {
  /** Longest line read (characters); default 65,536. */
  maxLineChars?: number;
}

export const DEFAULT_MAX_LINE_CHARS = 65_536;
export const MAX_KEPT_PROBLEMS = 50;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Go's strconv.ParseFloat forms an exporter writes: decimal, exponent, NaN and infinities. */
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL: Readonly<Record<string, number>> = { nan: NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };

class LineError extends Error {}

export function parseExposition(text: string, opts: ParseOptions = {}): Exposition {
  const maxLine = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const samples: Sample[] = [];
  const problems: ParseProblem[] = [];
  let problemCount = 0;
  const help = new Set<string>();
  const types = new Map<string, string>();
  const seenMetric = new Set<string>();
  const series = new Set<string>();
  const refuse = (line: number, reason: string) => {
    problemCount++;
    if (problems.length < MAX_KEPT_PROBLEMS) problems.push({ line, reason });
  };

  const lines = text.split('\n');
  // A text ends with a line feed; the empty piece after it is not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const no = i + 1;
    if (raw.length > maxLine) return refuse(no, `line of ${raw.length} characters exceeds ${maxLine}`);
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '') return;
    try {
      if (line.startsWith('#')) return comment(line);
      const s = sampleLine(line);
      const key = seriesKey(s);
      if (series.has(key)) throw new LineError(`series ${s.name}${labelText(s.labels)} repeated`);
      series.add(key);
      seenMetric.add(familyOf(s.name, types));
      samples.push(s);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      refuse(no, e.message);
    }
  });
  return { samples, problems, problemCount, types };

  function comment(line: string): void {
    const m = /^#[ \t]+(HELP|TYPE)[ \t]+(.*)$/.exec(line);
    // Other comments carry nothing for us (the format allows them anywhere).
    if (!m) return;
    const [, kind, rest = ''] = m;
    const name = METRIC_NAME.exec(rest)?.[0];
    if (name === undefined) throw new LineError(`${kind} without a metric name`);
    const after = rest.slice(name.length);
    if (after !== '' && !/^[ \t]/.test(after)) throw new LineError(`${kind} with a bad metric name`);
    const arg = after.replace(/^[ \t]+/, '');
    if (kind === 'HELP') {
      if (help.has(name)) throw new LineError(`second HELP for ${name}`);
      unescapeHelp(arg);
      help.add(name);
      return;
    }
    const type = arg.replace(/[ \t]+$/, '');
    if (!TYPES.has(type)) throw new LineError(`TYPE ${name}: unknown type ${JSON.stringify(type.slice(0, 20))}`);
    if (types.has(name)) throw new LineError(`second TYPE for ${name}`);
    if (seenMetric.has(name)) throw new LineError(`TYPE for ${name} after its samples`);
    types.set(name, type);
  }
}

function sampleLine(line: string): Sample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) throw new LineError('sample without a metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at = readLabels(line, at + 1, labels);
  }
  const rest = line.slice(at);
  if (!/^[ \t]/.test(rest)) throw new LineError(rest === '' ? `${name}: no value` : `${name}: expected a space before the value`);
  const fields = rest.replace(/^[ \t]+|[ \t]+$/g, '').split(/[ \t]+/);
  if (fields.length === 0 || fields[0] === '') throw new LineError(`${name}: no value`);
  if (fields.length > 2) throw new LineError(`${name}: unexpected text after the timestamp`);
  const value = parseSampleValue(fields[0] as string);
  if (value === undefined) throw new LineError(`${name}: value ${JSON.stringify((fields[0] as string).slice(0, 40))} is not a number`);
  const s: Sample = { name, labels, value };
  if (fields[1] !== undefined) {
    if (!/^-?\d{1,19}$/.test(fields[1])) throw new LineError(`${name}: timestamp ${JSON.stringify(fields[1].slice(0, 40))} is not an integer`);
    s.timestampMs = Number(fields[1]);
  }
  return s;
}

/** Reads `name="value",…}` from `at`; returns the index after the closing brace. */
function readLabels(line: string, at: number, into: Record<string, string>): number {
  for (;;) {
    at = skipBlanks(line, at);
    if (line[at] === '}') return at + 1;
    const name = LABEL_NAME.exec(line.slice(at))?.[0];
    if (name === undefined) throw new LineError(`bad label name at column ${at + 1}`);
    if (Object.prototype.hasOwnProperty.call(into, name)) throw new LineError(`label ${name} given twice`);
    at = skipBlanks(line, at + name.length);
    if (line[at] !== '=') throw new LineError(`label ${name}: expected =`);
    at = skipBlanks(line, at + 1);
    if (line[at] !== '"') throw new LineError(`label ${name}: expected a quoted value`);
    let value = '';
    for (at++; ; at++) {
      const c = line[at];
      if (c === undefined) throw new LineError(`label ${name}: value without its closing quote`);
      if (c === '"') break;
      if (c === '\\') {
        const e = line[++at];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new LineError(`label ${name}: bad escape \\${e ?? ''}`);
        continue;
      }
      value += c;
    }
    into[name] = value;
    at = skipBlanks(line, at + 1);
    if (line[at] === ',') {
      at++;
      continue;
    }
    if (line[at] === '}') return at + 1;
    throw new LineError(`label ${name}: expected , or } after the value`);
  }
}

function skipBlanks(line: string, at: number): number {
  while (line[at] === ' ' || line[at] === '\t') at++;
  return at;
}

/** A sample value as the format writes it (Go float syntax, NaN, ±Inf); undefined when it is none. */
export function parseSampleValue(text: string): number | undefined {
  const special = SPECIAL[text.toLowerCase()];
  if (special !== undefined) return special;
  return FLOAT.test(text) ? Number(text) : undefined;
}

/** HELP text escapes only `\\` and `\n`. */
function unescapeHelp(text: string): string {
  return text.replace(/\\(.?)/g, (_m, e: string) => {
    if (e === '\\') return '\\';
    if (e === 'n') return '\n';
    throw new LineError(`HELP: bad escape \\${e}`);
  });
}

function seriesKey(s: Sample): string {
  return `${s.name}\u0000${Object.keys(s.labels)
    .sort()
    .map((k) => `${k}\u0001${s.labels[k] ?? ''}`)
    .join('\u0000')}`;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length > 0 ? `{${parts.join(',').slice(0, 120)}}` : '';
}

/** The family a sample belongs to, for the "TYPE after samples" rule: histogram and summary samples carry suffixes. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === 'histogram' || t === 'summary') return base;
    }
  }
  return name;
}
