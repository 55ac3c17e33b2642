import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DcimError } from '../contract/index.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help; the README's CLI reference is kept in step by test/cli/help.test.ts. */
  description: string;
  default?: string | boolean;
  placeholder?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`dcim ${spec.name}: ${spec.summary}`, '', `usage: ${spec.usage}`, '', 'options:'];
  const all: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', { type: 'boolean', short: 'h', description: 'show this help' }]];
  for (const [name, o] of all) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.placeholder ?? 'value'}>` : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(34)} ${o.description}${def}`);
  }
  return lines.join('\n');
}

export type ParsedValues = Record<string, string | boolean | undefined>;

/** Parse argv for one command; unknown flags are an error naming the command. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): { help: true } | { help: false; values: ParsedValues; positionals: string[] } {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_INVALID', `dcim ${spec.name}: ${(e as Error).message} (see dcim ${spec.name} --help)`);
  }
  if (parsed.values.help) return { help: true };
  return { help: false, values: parsed.values as ParsedValues, positionals: parsed.positionals };
}

export function numberOption(values: ParsedValues, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined || raw === false) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new DcimError('DCIM_E_CONFIG_INVALID', `--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
