import { writeFileSync } from 'node:fs';
import { storedSummariesFor } from '../../collector/federation/stored-summaries.js';
import { fetchReportScopes, ReportSourceError } from '../../collector/report/api-report-source.js';
import { buildMonthlyReport, monthMismatch, RANK_BY, type RankBy, type ReportScope } from '../../collector/report/monthly-report.js';
import { loadReportConfig } from '../../collector/report/report-config.js';
import { renderCsv, renderRankingCsv } from '../../collector/report/report-csv.js';
import { renderHtml } from '../../collector/report/report-html.js';
import { renderText } from '../../collector/report/report-text.js';
import { DEFAULT_LATE_AFTER_MS, storeReportScopes } from '../../collector/report/store-report-source.js';
import { DEFAULT_LANG, LANGS, parseLang } from '../../collector/i18n/catalogue.js';
import { redactCredentials } from '../../shared/log.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import { UsageError, helpText, numberOption, parseCommandArgs, requiredString, stringOption, type CommandSpec, type ParsedValues } from '../args.js';
import type { Command } from '../dcim.js';

/**
 * `dcim report --month YYYY-MM`: the bureau's monthly report. With `--config`, any month, past or
 * current, evaluated from the site summaries stored in the config's store (a site collector's or
 * the bureau's) by the functions the collector computes its KPIs with; with `--api`, the month in
 * progress as a running collector's HTTP API gives it (another month is refused, exit 1, rather
 * than filled with this month's data). `--rank` ranks the sites by one month figure.
 */
export const REPORT_SPEC: CommandSpec = {
  name: 'report',
  summary: "the bureau's monthly report per site and cluster (racks, occupancy, compute, PUE and green share with their year verdicts, data quality, reporting), any month from the store or the month in progress from the API",
  usage: 'dcim report --month YYYY-MM [--site id | --cluster id] [--rank [--by pue|occupancy|green_share|compute]] [--format csv|json|html|text] [--lang zh-CN|en] [--out file] (--config collector.yaml|bureau.yaml [--late-hours N] | --api http://… [--token-env VAR])',
  options: {
    month: { type: 'string', placeholder: 'YYYY-MM', description: "the month to report (local to each site); with --api it must be the API's month in progress" },
    site: { type: 'string', placeholder: 'id', description: 'only this site (default: every site)' },
    cluster: { type: 'string', placeholder: 'id', description: "this cluster's sites and the cluster roll-up" },
    format: { type: 'string', placeholder: 'csv|json|html|text', description: 'output format; html has inline SVG charts; text is for a terminal or a mail', default: 'csv' },
    lang: { type: 'string', placeholder: 'zh-CN|en', description: 'language of the html and text report (the live page\'s words)', default: DEFAULT_LANG },
    rank: { type: 'boolean', description: 'rank the sites by one month figure against the targets, with each figure\'s quality and the sites\' reporting (csv: the ranking table)' },
    by: { type: 'string', placeholder: 'pue|occupancy|green_share|compute', description: 'the figure --rank orders by', default: 'pue' },
    'late-hours': { type: 'string', placeholder: 'N', description: 'with --config: a day summary generated more than N hours after its day ended counts as late', default: String(DEFAULT_LATE_AFTER_MS / 3_600_000) },
    out: { type: 'string', placeholder: 'file', description: 'write the report to this file (default: standard output)' },
    api: { type: 'string', placeholder: 'url', description: "the collector's HTTP API base URL, e.g. http://127.0.0.1:8080" },
    'token-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the API bearer token', default: 'DCIM_API_TOKEN' },
    config: { type: 'string', short: 'c', placeholder: 'file', description: 'instead of --api: a site collector or bureau config; its store holds the summaries the report is evaluated from' },
  },
};

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const FORMATS = ['csv', 'json', 'html', 'text'] as const;

interface Scopes {
  scopes: ReportScope[];
  source: string;
  source_kind: 'api' | 'store';
  as_of_ms?: number;
}

async function fromApi(values: ParsedValues, api: string, month: string, site: string | undefined, cluster: string | undefined): Promise<Scopes | string> {
  if (!/^https?:\/\/[^\s]+$/.test(api)) throw new UsageError('report', `--api: expected an http(s) URL, got ${JSON.stringify(api)}`);
  const env = stringOption(values, 'token-env') ?? 'DCIM_API_TOKEN';
  const token = resolveSecret({ env }, `--token-env ${env}`);
  const scopes = await fetchReportScopes({ api, token, ...(site !== undefined ? { site } : {}), ...(cluster !== undefined ? { cluster } : {}) });
  const mismatches = scopes.map((s) => monthMismatch(s, month)).filter((m): m is string => m !== undefined);
  if (mismatches.length > 0) return `cannot report ${month}:\n  ${mismatches.join('\n  ')}\n  (for another month, give --config with the collector's or the bureau's config: the report is then evaluated from the stored summaries)`;
  return { scopes, source: api, source_kind: 'api' };
}

async function fromStore(values: ParsedValues, file: string, month: string, site: string | undefined, cluster: string | undefined): Promise<Scopes> {
  const late = numberOption(values, 'late-hours', 0, 24 * 31) ?? DEFAULT_LATE_AFTER_MS / 3_600_000;
  const config = loadReportConfig(file);
  const store = storedSummariesFor(config.store, process.env);
  const { scopes, as_of_ms } = await storeReportScopes(store, {
    month,
    ...(site !== undefined ? { site } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    sites: config.sites,
    clusters: config.clusters,
    settle_ms: config.settle_ms,
    now_ms: Date.now(),
    late_after_ms: late * 3_600_000,
  });
  if (store.skipped > 0) console.error(`dcim report: ${store.skipped} stored row(s) that are not a valid summary were skipped: ${store.problems.join('; ')}`);
  const source = config.store.kind === 'sqlite' ? config.store.path : redactCredentials(config.store.url);
  return { scopes, source, source_kind: 'store', as_of_ms };
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(REPORT_SPEC, argv);
  if (parsed.help) {
    console.log(helpText(REPORT_SPEC));
    return 0;
  }
  const { values } = parsed;
  const month = requiredString(REPORT_SPEC, values, 'month');
  if (!MONTH.test(month)) throw new UsageError('report', `--month: expected YYYY-MM, got ${JSON.stringify(month)}`);
  const format = stringOption(values, 'format') ?? 'csv';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError('report', `--format: expected ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const langOption = stringOption(values, 'lang') ?? DEFAULT_LANG;
  const lang = parseLang(langOption);
  if (lang === undefined) throw new UsageError('report', `--lang: expected ${LANGS.join(' or ')}, got ${JSON.stringify(langOption)}`);
  const by = stringOption(values, 'by') ?? 'pue';
  if (!(RANK_BY as readonly string[]).includes(by)) throw new UsageError('report', `--by: expected ${RANK_BY.join(', ')}, got ${JSON.stringify(by)}`);
  const rank = values.rank === true;
  const site = stringOption(values, 'site');
  const cluster = stringOption(values, 'cluster');
  if (site !== undefined && cluster !== undefined) throw new UsageError('report', 'give --site or --cluster, not both');
  const api = stringOption(values, 'api');
  const config = stringOption(values, 'config');
  if ((api === undefined) === (config === undefined)) throw new UsageError('report', 'give either --api <url> (the month in progress) or --config <collector.yaml|bureau.yaml> (any month, from the store)');
  try {
    const got = api !== undefined ? await fromApi(values, api, month, site, cluster) : await fromStore(values, config!, month, site, cluster);
    if (typeof got === 'string') {
      console.error(`DCIM_E_REPORT_SOURCE: dcim report: ${got}`);
      return 1;
    }
    const report = buildMonthlyReport(month, got.scopes, Date.now(), got.source, { source_kind: got.source_kind, ...(got.as_of_ms !== undefined ? { as_of_ms: got.as_of_ms } : {}), ...(rank ? { rank_by: by as RankBy } : {}) });
    const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? renderHtml(report, lang) : format === 'text' ? renderText(report, lang) : rank ? renderRankingCsv(report) : renderCsv(report);
    const out = stringOption(values, 'out');
    if (out === undefined) process.stdout.write(text);
    else writeFileSync(out, text);
    return 0;
  } catch (e) {
    if (e instanceof ReportSourceError) {
      console.error(`${e.code}: dcim report: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export const command: Command = { spec: REPORT_SPEC, run };
