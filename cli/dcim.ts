#!/usr/bin/env node
import { helpText, type CommandSpec } from './args.js';
import { EXIT_USAGE, reportFailure } from './failure.js';

/** A subcommand: its spec (flags, help) and its runner, loaded only when chosen. */
export interface Command {
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.js')).command,
  sim: async () => (await import('./commands/sim.js')).command,
  agent: async () => (await import('./commands/agent.js')).command,
  collector: async () => (await import('./commands/collector.js')).command,
  bureau: async () => (await import('./commands/bureau.js')).command,
  poll: async () => (await import('./commands/poll.js')).command,
  kpi: async () => (await import('./commands/kpi.js')).command,
  report: async () => (await import('./commands/report.js')).command,
  'broker-config': async () => (await import('./commands/broker-config.js')).command,
};

export async function listCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

async function usage(): Promise<string> {
  const cmds = await listCommands();
  return [
    'dcim: data-center infrastructure monitoring (dcim-pulse)',
    '',
    'usage: dcim <command> [options]      dcim <command> --help',
    '',
    'commands:',
    ...cmds.map((c) => `  ${c.spec.name.padEnd(11)} ${c.spec.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { DCIM_VERSION } = await import('../contract/index.js');
    console.log(DCIM_VERSION);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`DCIM_E_CLI_USAGE: dcim: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')}; see dcim --help)`);
    return EXIT_USAGE;
  }
  const command = await load();
  try {
    return await command.run(rest);
  } catch (e) {
    return reportFailure(e);
  }
}

export { helpText };

const isEntry = process.argv[1] !== undefined && /dcim\.(ts|js)$/.test(process.argv[1]);

/**
 * Once a command has returned (and stopped what it started), the process must end: should a
 * socket or timer still hold the event loop — a bug, named in the debug log — it must not hang
 * in front of the person who ran it, or a service manager waiting for it.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    if (process.env.DCIM_LOG_LEVEL === 'debug') console.error(`dcim: still running ${EXIT_GRACE_MS} ms after the command ended, held by ${process.getActiveResourcesInfo().join(', ')}; exiting`);
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}
const EXIT_GRACE_MS = 3000;

if (isEntry) {
  main(process.argv.slice(2)).then(exitSoon, (e: unknown) => exitSoon(reportFailure(e)));
}
