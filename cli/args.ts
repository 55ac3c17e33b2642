import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { loadYamlFile } from '../shared/config/load.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The flag may repeat (string options only); its value is then a list. */
  multiple?: boolean;
  short?: string;
  /** Shown in --help; the README's CLI reference is kept in step by test/cli/dcim.test.ts. */
  description: string;
  default?: string | boolean;
  placeholder?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /**
   * When true, `--config <file>` names a YAML file whose keys are this command's long options
   * in snake_case (`interval_s: 5` for `--interval-s 5`). Flags on the command line win.
   */
  optionsFile?: boolean;
}

const CONFIG_OPTION: OptionSpec = { type: 'string', short: 'c', placeholder: 'file', description: 'YAML file of these options (keys in snake_case); flags win' };

function allOptions(spec: CommandSpec): [string, OptionSpec][] {
  return [...(spec.optionsFile ? ([['config', CONFIG_OPTION]] as [string, OptionSpec][]) : []), ...Object.entries(spec.options)];
}

/** The schema of a command's options file, built from its flags so the two never drift. */
function optionsFileSchema(spec: CommandSpec) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    shape[name.replaceAll('-', '_')] =
      o.type === 'boolean' ? z.boolean().optional() : o.multiple ? z.union([z.string(), z.array(z.string())]).optional() : z.union([z.string(), z.number()]).optional();
  }
  return z.object(shape).strict();
}

export function helpText(spec: CommandSpec): string {
  const lines = [`dcim ${spec.name}: ${spec.summary}`, '', `usage: ${spec.usage}`, '', 'options:'];
  const all: [string, OptionSpec][] = [...allOptions(spec), ['help', { type: 'boolean', short: 'h', description: 'show this help' }]];
  for (const [name, o] of all) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.placeholder ?? 'value'}>` : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(34)} ${o.description}${def}`);
  }
  return lines.join('\n');
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/** Parse argv for one command; unknown flags are an error naming the command. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): { help: true } | { help: false; values: ParsedValues; positionals: string[] } {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of allOptions(spec)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's wording, shortened: "Unknown option '--x'. To specify a positional …".
    throw new UsageError(spec.name, (e as Error).message.split('. ')[0]!.replace(/\.$/, ''));
  }
  if (parsed.values.help) return { help: true };
  const flags = parsed.values as ParsedValues;
  const values: ParsedValues = {};
  for (const [name, o] of Object.entries(spec.options)) if (o.default !== undefined) values[name] = o.default;
  const file = spec.optionsFile ? flags.config : undefined;
  if (typeof file === 'string') {
    const fromFile = loadYamlFile(optionsFileSchema(spec), file) as Record<string, string | number | boolean | string[] | undefined>;
    for (const [key, v] of Object.entries(fromFile)) {
      if (v === undefined) continue;
      const name = key.replaceAll('_', '-');
      values[name] = typeof v === 'number' ? String(v) : spec.options[name]?.multiple && typeof v === 'string' ? [v] : v;
    }
  }
  for (const [name, v] of Object.entries(flags)) if (v !== undefined && name !== 'config') values[name] = v;
  if (!spec.optionsFile && flags.config !== undefined) values.config = flags.config;
  return { help: false, values, positionals: parsed.positionals };
}

export function numberOption(values: ParsedValues, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined || raw === false) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(undefined, `--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable option's values (a single default counts as one). */
export function stringsOption(values: ParsedValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** A command-line mistake (DCIM_E_CLI_USAGE): printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  readonly code = 'DCIM_E_CLI_USAGE';

  constructor(command: string | undefined, message: string) {
    super(command === undefined ? `${message} (see --help)` : `dcim ${command}: ${message} (see dcim ${command} --help)`);
    this.name = 'UsageError';
  }
}

export function requiredString(spec: CommandSpec, values: ParsedValues, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined) throw new UsageError(spec.name, `--${name} <${spec.options[name]?.placeholder ?? 'value'}> is required`);
  return v;
}

/** `--duration-s`, shared by every long-running command. */
export const DURATION_OPTION: OptionSpec = { type: 'string', placeholder: 's', description: 'stop by itself after this many seconds' };

export function durationMs(values: ParsedValues): number | undefined {
  const s = numberOption(values, 'duration-s', 1, 31_536_000);
  return s === undefined ? undefined : s * 1000;
}
