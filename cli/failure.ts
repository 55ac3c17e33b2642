import { DcimError, describeNetworkError, type ErrorCode } from '../contract/index.js';
import { UsageError } from './args.js';

/**
 * How every command reports a failure: one line `DCIM_E_…: what happened` on stderr (a config
 * error adds its list of problems), and the exit code the README documents:
 *   1 a runtime error (config, file, secret, port in use, service refused, unknown host, store);
 *   2 a usage error (unknown command or option, missing or invalid flag).
 * (`dcim poll` adds 3: the device gave no usable answer; a second Ctrl-C exits 130.)
 */
export interface Failure {
  code: ErrorCode;
  text: string;
  exit: 1 | 2;
}

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export function describeFailure(e: unknown): Failure {
  if (e instanceof UsageError) return { code: 'DCIM_E_CLI_USAGE', text: e.message, exit: EXIT_USAGE };
  // One problem is one line (the file and path are in it); several are listed below a count.
  if (e instanceof DcimError) return { code: e.code, text: e.details.length === 1 ? e.details[0]! : e.message, exit: EXIT_ERROR };
  const net = describeNetworkError(e);
  if (net) {
    // A wrapper that names the part ("control API cannot listen on 127.0.0.1:9000/tcp: listen
    // EADDRINUSE …") keeps its lead; fetch's bare "fetch failed" says nothing and is dropped.
    const lead = e instanceof Error && e.cause !== undefined && !/^fetch failed/.test(e.message) ? e.message.split(': ')[0] : undefined;
    return { code: net.code, text: lead ? `${lead}: ${net.reason}` : net.message, exit: EXIT_ERROR };
  }
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && typeof err.path === 'string' && /^(ENOENT|EACCES|EISDIR|ENOTDIR|EPERM|ELOOP)$/.test(err.code)) {
    return { code: 'DCIM_E_CONFIG_UNREADABLE', text: `cannot read ${err.path}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`, exit: EXIT_ERROR };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'DCIM_E_CLI_INTERNAL', text: `unexpected error: ${message.split('\n')[0]} (DCIM_LOG_LEVEL=debug prints the stack)`, exit: EXIT_ERROR };
}

/** Print a failure as the README says and return its exit code. */
export function reportFailure(e: unknown, stderr: (line: string) => void = (l) => console.error(l)): number {
  const f = describeFailure(e);
  stderr(`${f.code}: ${f.text}`);
  if (f.code === 'DCIM_E_CLI_INTERNAL' && process.env.DCIM_LOG_LEVEL === 'debug' && e instanceof Error && e.stack) stderr(e.stack);
  return f.exit;
}
