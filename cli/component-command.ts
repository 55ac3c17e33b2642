import { DURATION_OPTION, durationMs, helpText, parseCommandArgs, requiredString, type CommandSpec, type OptionSpec } from './args.js';
import type { Command } from './dcim.js';
import { runUntilSignal, watchStop } from './run-until-signal.js';

/**
 * A long-running part (agent, collector) started from one config file: `--config`, `--check`
 * (validate, bind what it will bind and let go, say what was found, then exit), `--duration-s`,
 * and a clean stop on SIGINT/SIGTERM, also while it still starts (waits for its broker).
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
  /** `--check`: bind every address the part will listen on and release it; each a short note. Throws a DcimError. */
  checkBinds?(loaded: T): Promise<string[]>;
  /** Settings that work but are weak, each a line with its code: `--check` prints them on stderr and still passes. */
  warnings?(loaded: T): string[];
  /**
   * Starts the part; resolves with how to stop it. `signal` aborts when a stop is asked while it
   * still starts: the part then stops what it started and resolves (or throws) promptly.
   */
  start(loaded: T, signal: AbortSignal): Promise<() => Promise<void>>;
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
    const duration = durationMs(parsed.values);
    const loaded = parts.load(file);
    if (parsed.values.check) {
      const binds = (await parts.checkBinds?.(loaded)) ?? [];
      console.log(`${file}: ok (${parts.describe(loaded)})${binds.length > 0 ? `; ${binds.join(', ')}` : ''}`);
      for (const w of parts.warnings?.(loaded) ?? []) console.error(`warning: ${w}`);
      return 0;
    }
    const watch = watchStop(duration);
    let stop: () => Promise<void>;
    try {
      stop = await parts.start(loaded, watch.signal);
    } catch (e) {
      watch.dispose();
      throw e;
    }
    await runUntilSignal(stop, duration, watch);
    return 0;
  }
  return { spec, run };
}
