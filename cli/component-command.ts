import { DURATION_OPTION, durationMs, helpText, parseCommandArgs, requiredString, type CommandSpec, type OptionSpec } from './args.js';
import type { Command } from './dcim.js';
import { runUntilSignal } from './run-until-signal.js';

/**
 * A long-running part (agent, collector) started from one config file: `--config`, `--check`
 * (validate and say what was found, then exit), `--duration-s`, and a clean stop on SIGINT/SIGTERM.
 */
export interface ComponentParts<T> {
  name: string;
  summary: string;
  /** What the config option's help says, and what `--check` validates. */
  config_help: string;
  check_help: string;
  load(file: string): T;
  /** The one line `--check` prints after `<file>: ok`. */
  describe(loaded: T): string;
  /** Starts the part; resolves with how to stop it. */
  start(loaded: T): Promise<() => Promise<void>>;
}

export function componentCommand<T>(parts: ComponentParts<T>): Command {
  const options: Record<string, OptionSpec> = {
    config: { type: 'string', short: 'c', placeholder: 'file', description: parts.config_help },
    check: { type: 'boolean', description: parts.check_help },
    'duration-s': DURATION_OPTION,
  };
  const spec: CommandSpec = { name: parts.name, summary: parts.summary, usage: `dcim ${parts.name} --config ${parts.name}.yaml [--check]`, options };
  async function run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs(spec, argv);
    if (parsed.help) {
      console.log(helpText(spec));
      return 0;
    }
    const file = requiredString(spec, parsed.values, 'config');
    const loaded = parts.load(file);
    if (parsed.values.check) {
      console.log(`${file}: ok (${parts.describe(loaded)})`);
      return 0;
    }
    const stop = await parts.start(loaded);
    await runUntilSignal(stop, durationMs(parsed.values));
    return 0;
  }
  return { spec, run };
}
