import { createBoundedGetClient } from '../http/bounded-get.js';

/**
 * One scrape of an exporter, over the shared bounded GET (keep-alive, one timer for headers and
 * body, body size limit, no redirects). What is the exporter's own:
 * - `Accept` asks for the text format 0.0.4 (an exporter that can also speak protobuf or
 *   OpenMetrics then answers in the format the parser reads); a body of another content type
 *   is refused, not guessed at.
 * - An optional bearer token (never logged).
 */
export type ScrapeFailureKind = 'timeout' | 'connect' | 'http' | 'auth' | 'too_large' | 'not_text';
export type ScrapeOutcome = { ok: true; text: string } | { ok: false; kind: ScrapeFailureKind; status?: number; message: string };

export interface ScrapeTransport {
  scrape(timeoutMs: number): Promise<ScrapeOutcome>;
  close(): void;
}

export interface HttpScrapeOptions {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  bearerToken?: string | undefined;
  verifyTls: boolean;
  /** Default 16 MiB: dcgm-exporter with every field on 8 GPUs serves well under 1 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_SCRAPE_BYTES = 16 * 1024 * 1024;
export const ACCEPT_TEXT_004 = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

export function createHttpScrapeTransport(opts: HttpScrapeOptions): ScrapeTransport {
  const client = createBoundedGetClient({
    scheme: opts.scheme,
    host: opts.host,
    port: opts.port,
    verifyTls: opts.verifyTls,
    maxSockets: 1,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_SCRAPE_BYTES,
  });
  const headers = { Accept: ACCEPT_TEXT_004, ...(opts.bearerToken !== undefined ? { Authorization: `Bearer ${opts.bearerToken}` } : {}) };

  const scrape = async (timeoutMs: number): Promise<ScrapeOutcome> => {
    const got = await client.get(opts.path, headers, timeoutMs, (res) => {
      const type = String(res.headers['content-type'] ?? '').toLowerCase();
      // The 0.0.4 format is text/plain; no content type at all is how a bare exporter says it too.
      if (type !== '' && !type.startsWith('text/plain')) {
        return { kind: 'not_text' as const, message: `${opts.path}: content type ${type.slice(0, 80)} is not the text exposition format` };
      }
      return undefined;
    });
    if (!got.ok) return { ok: false, kind: got.kind, ...(got.status !== undefined ? { status: got.status } : {}), message: got.message };
    return { ok: true, text: got.body.toString('utf8') };
  };

  return { scrape, close: () => client.close() };
}
