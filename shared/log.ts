/**
 * The one logger: structured JSON lines on stderr. Secrets never reach it: callers log ids and
 * codes, and as a last line of defence keys named like secrets are redacted, and so is the password
 * of any URL written in a value or an error message (`mqtts://agent:s3cret@broker` is logged as
 * `mqtts://agent:***@broker`).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word)?|secret|token|community|auth_key|priv_key/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

/** `scheme://user:password@` → `scheme://user:***@`, wherever it appears in a text. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi;

export function redactCredentials(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@');
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { message: redactCredentials(v.message), ...('code' in v ? { code: (v as { code: unknown }).code } : {}) };
    else if (typeof v === 'string') out[k] = redactCredentials(v);
    else out[k] = v;
  }
  return out;
}

export function createLogger(
  opts: { level?: LogLevel; sink?: LogSink; base?: Record<string, unknown>; now?: () => number } = {},
): Logger {
  const min = LEVELS[opts.level ?? ((process.env.DCIM_LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? LEVELS.info;
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    sink(JSON.stringify({ ts: new Date(now()).toISOString(), level, msg: redactCredentials(msg), ...redact({ ...base, ...fields }) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}
