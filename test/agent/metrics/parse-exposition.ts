/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: it accepts only what the
 * format allows and what a well-behaved exporter writes (every family announced by TYPE before
 * its samples, families not interleaved, no duplicate series, only the three label escapes),
 * and throws naming the line otherwise. Reading our own output back with it is the test.
 */
export interface ParsedSample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  type: string;
  help: string | undefined;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the text does not end with a newline');
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n').slice(0, -1);
  const enter = (name: string, at: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`${at}: family ${name} appears again after another family`);
    if (current !== undefined) closed.add(current);
    current = name;
  };
  lines.forEach((line, i) => {
    const at = `line ${i + 1} ${JSON.stringify(line)}`;
    if (line.length === 0) throw new Error(`${at}: empty line`);
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`${at}: a comment that is neither HELP nor TYPE`);
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${at}: invalid metric name`);
      enter(name, at);
      let f = families.get(name);
      if (!f) families.set(name, (f = { type: '', help: undefined, samples: [] }));
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${at}: second HELP`);
        f.help = unescapeHelp(rest, at);
      } else {
        if (f.type !== '') throw new Error(`${at}: second TYPE`);
        if (f.samples.length > 0) throw new Error(`${at}: TYPE after samples`);
        if (!TYPES.has(rest)) throw new Error(`${at}: unknown type`);
        f.type = rest;
      }
      return;
    }
    const { name, labels, value } = parseSample(line, at);
    enter(name, at);
    const f = families.get(name);
    if (!f || f.type === '') throw new Error(`${at}: sample before its TYPE line`);
    if (f.type === 'counter' && (!name.endsWith('_total') || !(value >= 0))) throw new Error(`${at}: a counter must end in _total and be >= 0`);
    const key = JSON.stringify(Object.entries(labels).sort());
    if (f.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)) throw new Error(`${at}: duplicate series`);
    f.samples.push({ labels, value });
  });
  return families;
}

function unescapeHelp(s: string, at: string): string {
  return s.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${at}: bad escape \\${c} in HELP`);
  });
}

function parseSample(line: string, at: string): { name: string; labels: Record<string, string>; value: number } {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME.test(name)) throw new Error(`${at}: invalid metric name`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) throw new Error(`${at}: label without =`);
      const key = line.slice(i, eq);
      if (!LABEL_NAME.test(key) || key.startsWith('__')) throw new Error(`${at}: invalid label name ${JSON.stringify(key)}`);
      if (key in labels) throw new Error(`${at}: label ${key} twice`);
      if (line[eq + 1] !== '"') throw new Error(`${at}: label value not quoted`);
      let j = eq + 2;
      let v = '';
      for (;;) {
        const c = line[j];
        if (c === undefined) throw new Error(`${at}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const n = line[j + 1];
          if (n === '\\') v += '\\';
          else if (n === '"') v += '"';
          else if (n === 'n') v += '\n';
          else throw new Error(`${at}: bad escape \\${String(n)} in a label value`);
          j += 2;
        } else {
          v += c;
          j++;
        }
      }
      labels[key] = v;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${at}: expected , or } after a label`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${at}: expected one space before the value`);
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`${at}: expected value [timestamp]`);
  const raw = parts[0] as string;
  let value: number;
  if (raw === 'NaN') value = NaN;
  else if (raw === '+Inf' || raw === 'Inf') value = Infinity;
  else if (raw === '-Inf') value = -Infinity;
  else if (FLOAT.test(raw)) value = Number(raw);
  else throw new Error(`${at}: value ${JSON.stringify(raw)} is not a float`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${at}: timestamp is not an integer`);
  return { name, labels, value };
}
