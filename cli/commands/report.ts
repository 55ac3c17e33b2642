import { writeFileSync } from 'node:fs';
import { loadCollectorConfig } from '../../collector/config.js';
import { fetchReportScopes, ReportSourceError } from '../../collector/report/api-report-source.js';
import { buildMonthlyReport, monthMismatch } from '../../collector/report/monthly-report.js';
import { renderCsv } from '../../collector/report/report-csv.js';
import { renderHtml } from '../../collector/report/report-html.js';
import { DEFAULT_LANG, LANGS, parseLang } from '../../collector/i18n/catalogue.js';
import { resolveSecret } from '../../contract/secrets.js';
import { UsageError, helpText, parseCommandArgs, requiredString, stringOption, type CommandSpec, type ParsedValues } from '../args.js';
import type { Command } from '../dcim.js';

/**
 * `dcim report --month YYYY-MM`: the bureau's monthly report, read from a running collector's HTTP
 * API (the figures are the API's, so the report and the API agree by construction). The API holds
 * the month in progress; another month is refused (exit 1) rather than filled with this month's data.
 */
export const REPORT_SPEC: CommandSpec = {
  name: 'report',
  summary: "the bureau's monthly report per site (racks, occupancy, compute, PUE, green share, data quality) from the collector's HTTP API",
  usage: 'dcim report --month YYYY-MM [--site id | --cluster id] [--format csv|json|html] [--lang zh-CN|en] [--out file] (--api http://… [--token-env VAR] | --config collector.yaml)',
  options: {
    month: { type: 'string', placeholder: 'YYYY-MM', description: "the month to report; must be the month of the API's 1mo window (the month in progress at the sites)" },
    site: { type: 'string', placeholder: 'id', description: 'only this site (default: every site)' },
    cluster: { type: 'string', placeholder: 'id', description: "this cluster's sites and the cluster roll-up" },
    format: { type: 'string', placeholder: 'csv|json|html', description: 'output format; html has inline SVG charts', default: 'csv' },
    lang: { type: 'string', placeholder: 'zh-CN|en', description: 'language of the html report (the live page\'s words)', default: DEFAULT_LANG },
    out: { type: 'string', placeholder: 'file', description: 'write the report to this file (default: standard output)' },
    api: { type: 'string', placeholder: 'url', description: "the collector's HTTP API base URL, e.g. http://127.0.0.1:8080" },
    'token-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the API bearer token', default: 'DCIM_API_TOKEN' },
    config: { type: 'string', short: 'c', placeholder: 'file', description: "instead of --api: a collector config; its http.listen and http.token name the API" },
  },
};

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const FORMATS = ['csv', 'json', 'html'] as const;

function target(values: ParsedValues): { api: string; token: string } {
  const api = stringOption(values, 'api');
  const config = stringOption(values, 'config');
  if ((api === undefined) === (config === undefined)) throw new UsageError('report', 'give either --api <url> or --config <collector.yaml>');
  if (api !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(api)) throw new UsageError('report', `--api: expected an http(s) URL, got ${JSON.stringify(api)}`);
    const env = stringOption(values, 'token-env') ?? 'DCIM_API_TOKEN';
    return { api, token: resolveSecret({ env }, `--token-env ${env}`) };
  }
  const setup = loadCollectorConfig(config!);
  const http = setup.config.http;
  if (!http) throw new UsageError('report', `${config}: no http section, so the collector serves no API to read`);
  const sep = http.listen.lastIndexOf(':');
  const host = http.listen.slice(0, sep);
  // A wildcard listen address is reachable on loopback from the same machine.
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return { api: `http://${reach}:${http.listen.slice(sep + 1)}`, token: resolveSecret(http.token, 'http.token') };
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
  const site = stringOption(values, 'site');
  const cluster = stringOption(values, 'cluster');
  if (site !== undefined && cluster !== undefined) throw new UsageError('report', 'give --site or --cluster, not both');
  const { api, token } = target(values);
  try {
    const scopes = await fetchReportScopes({ api, token, ...(site !== undefined ? { site } : {}), ...(cluster !== undefined ? { cluster } : {}) });
    const mismatches = scopes.map((s) => monthMismatch(s, month)).filter((m): m is string => m !== undefined);
    if (mismatches.length > 0) {
      console.error(`DCIM_E_REPORT_SOURCE: dcim report: cannot report ${month}:\n  ${mismatches.join('\n  ')}`);
      return 1;
    }
    const report = buildMonthlyReport(month, scopes, Date.now(), api);
    const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? renderHtml(report, lang) : renderCsv(report);
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
