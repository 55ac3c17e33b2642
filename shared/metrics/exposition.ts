/**
 * The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/
 * exposition_formats). Pure: metric families in, text out. Rules kept here:
 * - one `# HELP` and one `# TYPE` line per family, then its samples, families never interleaved;
 * - HELP text escapes backslash and newline; label values escape backslash, double quote and
 *   newline;
 * - a counter's name ends in `_total` (in 0.0.4 the TYPE line names the family with the suffix);
 * - metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` and
 *   never start with `__` (reserved for Prometheus itself);
 * - values are Go-style floats: `NaN`, `+Inf`, `-Inf` spelled out, integers without a fraction.
 *   A non-finite value is written, never dropped: the series stays in every scrape, so a
 *   "not known yet" (a store that never took a batch) reads as NaN rather than as a series that
 *   comes and goes, and comparisons with NaN in PromQL are false, so no alert fires on it;
 * - no timestamps: the scrape time is the sample time, which is what a live agent means.
 * A family breaking these rules is a bug in the caller (names are constants in the code), so it
 * throws instead of writing text a scraper would reject as a whole. Agent, collector and bureau
 * all render through here.
 */
export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: readonly Sample[];
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  // JavaScript's shortest round-trip form (1e+21, 5e-7) is a valid Go ParseFloat input.
  return Object.is(n, -0) ? '0' : String(n);
}

const NEEDS_ESCAPE = /[\\"\n]/;

/**
 * `{a="1",b="2"}` with the label names sorted, as the Go client writes them; so the text itself
 * identifies the series, whatever order the caller built the labels in.
 */
function formatLabels(family: string, labels: Readonly<Record<string, string>> | undefined, checked: Set<string>): { text: string; key: string } {
  if (!labels) return { text: '', key: '' };
  const keys = Object.keys(labels);
  if (keys.length === 0) return { text: '', key: '' };
  if (keys.length > 1) keys.sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (!checked.has(k)) {
      if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`${family}: invalid label name ${JSON.stringify(k)}`);
      checked.add(k);
    }
    const v = labels[k] as string;
    text += `${i === 0 ? '' : ','}${k}="${NEEDS_ESCAPE.test(v) ? escapeLabelValue(v) : v}"`;
  }
  text += '}';
  return { text, key: text };
}

/** The exposition text of these families (empty families are left out); ends with a newline. */
export function formatExposition(families: readonly MetricFamily[]): string {
  let text = '';
  for (const chunk of expositionChunks(families)) text += chunk;
  return text;
}

/**
 * The same text one family at a time, so a caller can yield to the event loop between families:
 * ten thousand devices make 160,000 lines, which should not stall polling in one go.
 */
export function* expositionChunks(families: readonly MetricFamily[]): Generator<string> {
  const seen = new Set<string>();
  const checkedLabels = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
    if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`${f.name}: a counter's name must end in _total`);
    if (seen.has(f.name)) throw new Error(`${f.name}: family listed twice`);
    seen.add(f.name);
    if (f.samples.length === 0) continue;
    const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
    const series = new Set<string>();
    for (const s of f.samples) {
      const { text, key } = formatLabels(f.name, s.labels, checkedLabels);
      if (series.has(key)) throw new Error(`${f.name}: two samples with labels ${text || '{}'}`);
      series.add(key);
      lines.push(`${f.name}${text} ${formatValue(s.value)}`);
    }
    yield `${lines.join('\n')}\n`;
  }
}
