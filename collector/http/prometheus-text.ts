/**
 * Prometheus text exposition format 0.0.4 (the format every Prometheus-compatible scraper
 * reads): `# HELP`, `# TYPE`, then one `name{labels} value` line per sample. Pure.
 * Escaping per the format: label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline. Non-finite values are left out rather than exposed as NaN.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: MetricSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).filter((k) => LABEL.test(k) && !k.startsWith('__'));
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels![k]!)}"`).join(',')}}`;
}

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    // A bad or repeated name would make the whole scrape fail: leave that family out.
    if (!NAME.test(f.name) || seen.has(f.name)) continue;
    seen.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) if (Number.isFinite(s.value)) out.push(`${f.name}${labelText(s.labels)} ${String(s.value)}`);
  }
  return out.join('\n') + '\n';
}
