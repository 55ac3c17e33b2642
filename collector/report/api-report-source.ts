import { DcimError, describeNetworkError } from '../../contract/errors.js';
import type { KpiMessage } from '../../contract/messages.js';
import type { ClusterSummary, SiteSummary } from '../http/api-source.js';
import type { ReportScope } from './monthly-report.js';

/**
 * Reads what the monthly report needs from the collector's HTTP API, with the bearer token:
 * /api/sites, /api/clusters and the KPIs of each chosen site (and cluster). Errors name the URL
 * and the API's error code, never the token.
 */
export class ReportSourceError extends DcimError {
  constructor(message: string) {
    super('DCIM_E_REPORT_SOURCE', message);
    this.name = 'ReportSourceError';
  }
}

export interface ApiReportSourceOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  api: string;
  token: string;
  site?: string;
  cluster?: string;
  fetch?: typeof fetch;
  timeout_ms?: number;
}

async function getJson<T>(o: ApiReportSourceOptions, path: string): Promise<T> {
  const url = new URL(path, o.api.endsWith('/') ? o.api : `${o.api}/`).toString();
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${o.token}` }, signal: AbortSignal.timeout(o.timeout_ms ?? 10_000) });
  } catch (e) {
    // A refused connection or an unknown host is said as such, with its own code.
    const net = describeNetworkError(e);
    if (net) throw new DcimError(net.code, `GET ${url}: ${net.reason}`);
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new ReportSourceError(`GET ${url}: ${(e as Error).message}${cause ? `: ${cause}` : ''}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error) detail = `${body.error.code ?? ''} ${body.error.message ?? ''}`.trim();
    } catch {
      // not JSON: the raw text is the detail
    }
    throw new ReportSourceError(`GET ${url}: HTTP ${res.status}${res.status === 401 ? ' (wrong or missing token)' : ''}: ${detail}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ReportSourceError(`GET ${url}: the answer is not JSON`);
  }
}

const kpiMessage = (scope: 'site' | 'cluster', body: Record<string, unknown>): KpiMessage => ({ schema: 1, site: String(body[scope]), ts: Number(body.ts), kpis: (body.kpis ?? []) as KpiMessage['kpis'] });

/** The sites (and with `cluster`, the cluster itself after its sites) with their KPIs. */
export async function fetchReportScopes(o: ApiReportSourceOptions): Promise<ReportScope[]> {
  const { sites } = await getJson<{ sites: SiteSummary[] }>(o, 'api/sites');
  const { clusters } = await getJson<{ clusters: ClusterSummary[] }>(o, 'api/clusters');
  let chosen = sites;
  let cluster: ClusterSummary | undefined;
  if (o.site !== undefined) {
    chosen = sites.filter((s) => s.id === o.site);
    if (chosen.length === 0) throw new ReportSourceError(`no site ${JSON.stringify(o.site)} at ${o.api} (sites: ${sites.map((s) => s.id).join(', ') || 'none'})`);
  }
  if (o.cluster !== undefined) {
    cluster = clusters.find((c) => c.id === o.cluster);
    if (!cluster) throw new ReportSourceError(`no cluster ${JSON.stringify(o.cluster)} at ${o.api} (clusters: ${clusters.map((c) => c.id).join(', ') || 'none'})`);
    const members = new Set(cluster.sites);
    chosen = sites.filter((s) => members.has(s.id));
  }
  const out: ReportScope[] = [];
  for (const s of chosen) out.push({ kind: 'site', summary: s, kpis: kpiMessage('site', await getJson(o, `api/sites/${encodeURIComponent(s.id)}/kpi`)) });
  if (cluster) out.push({ kind: 'cluster', summary: cluster, kpis: kpiMessage('cluster', await getJson(o, `api/clusters/${encodeURIComponent(cluster.id)}/kpi`)) });
  return out;
}
