import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * `npm run bench`: lists the benchmarks, runs one by name or all of them. Each benchmark runs in
 * its own node process (under tsx, with --expose-gc so memory figures are taken after a
 * collection), with this terminal: benchmarks print figures, they never assert them, so a run
 * fails only when a benchmark crashes.
 *
 *   npm run bench                              list
 *   npm run bench -- <name> [its arguments]    run one (arguments after the name go to it)
 *   npm run bench -- --all                     run every benchmark with its defaults, in turn
 *   npm run bench -- --help
 */

export interface Benchmark {
  /** The file under bench/, without `.ts`. */
  name: string;
  measures: string;
  /** With its defaults, on 2 shared cores; a rough order, not a promise. */
  takes: string;
  args: string;
}

export const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'agent-snmp',
    measures: 'the edge agent polling 10,000 simulated SNMP PDUs against prometheus-snmp-exporter: CPU per OID, RSS',
    takes: '~5 min',
    args: '[devices=10000] [cycles=3] [interval_s=30] [max_concurrent=64] [--agent-only] [--tsx]',
  },
  {
    name: 'bureau-ingest',
    measures: "a bureau draining 500 sites' day of summaries through mosquitto against a bare subscriber; roll-up ticks; memory",
    takes: '~2 min',
    args: '[--sites 500] [--clusters 10]',
  },
  {
    name: 'collector-cardinality',
    measures: "collector RSS and heap under a flood of forged series, and the real agent's readings still accepted",
    takes: '~3 min',
    args: '[--series 1000000] [--rounds 3] [--per-message 500] [--profiles 1|0]',
  },
  {
    name: 'collector-ingest',
    measures: 'collector readings per second (live and backlog) against the broker delivering to a plain subscriber',
    takes: '~3 min',
    args: '[--devices 10000] [--messages 100000] [--paced-s 30] [--kpi-interval-ms 500]',
  },
  {
    name: 'kpi-engine',
    measures: 'KPI engine readings per second on one core, memory at ~100,000 series, cost of evaluate',
    takes: '~30 s',
    args: '[--racks 4000] [--minutes 60]',
  },
  {
    name: 'kpi-recompute-year',
    measures: "dcim kpi recompute over 1-12 months of the Gui'an site (1,010 devices, 15-min polls) from SQLite: time, CPU, peak RSS/heap against the store's own read",
    takes: '~30 min',
    args: '[--months 1,3,6,12] [--devices 250,500,1010] [--device-months 1] [--month-devices 1010] [--dir DIR] [--keep]',
  },
  {
    name: 'kpi-restore-year',
    measures: "a collector's start restoring month and year windows (day summaries + raw replay) of the Gui'an site: time, memory against the store's own read",
    takes: '~5 min',
    args: '[--months 1,3,6,12] [--devices 250,500,1010] [--device-months 12] [--dir DIR] [--keep]',
  },
  {
    name: 'live-floor',
    measures: "the live page's floor (GET /api/sites/:id/floor): time per call and JSON size",
    takes: '~10 s',
    args: '[--racks 4000] [--halls 8]',
  },
  {
    name: 'model-scale',
    measures: "the simulator's physical model and truth recorder at ~10,000 devices: memory, time per step",
    takes: '~10 s',
    args: '[halls=20]',
  },
  {
    name: 'sim-scale',
    measures: 'the simulator serving ~10,000 devices over SNMP and Modbus: CPU per 1,000 requests, rate',
    takes: '~1 min',
    args: '[halls=20] [requests per kind=5000]',
  },
];

const USAGE = `Usage:
  npm run bench                              list the benchmarks
  npm run bench -- <name> [its arguments]    run one benchmark
  npm run bench -- --all                     run every benchmark with its defaults, one after the other
  npm run bench -- --help                    this text

Benchmarks print what they measured (figures depend on the machine); they never assert.`;

export function listing(): string {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  const rows = BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.takes.padEnd(7)}  ${b.measures}\n  ${' '.repeat(width)}  ${' '.repeat(7)}  args: ${b.args}`);
  return `Benchmarks (npm run bench -- <name>):\n${rows.join('\n')}`;
}

/** Runs one benchmark to its end; its exit status (a signal counts as a failure). */
function runOne(b: Benchmark, args: string[]): number {
  const file = join(import.meta.dirname, `${b.name}.ts`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (r.error) {
    console.error(`bench ${b.name}: could not start: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

function main(argv: string[]): number {
  const [first, ...rest] = argv;
  if (first === undefined) {
    console.log(`${listing()}\n\n${USAGE}`);
    return 0;
  }
  if (first === '--help' || first === '-h') {
    console.log(`${USAGE}\n\n${listing()}`);
    return 0;
  }
  if (first === '--all') {
    const failed: string[] = [];
    for (const b of BENCHMARKS) {
      console.log(`\n=== bench ${b.name} (${b.takes}) ===`);
      if (runOne(b, []) !== 0) failed.push(b.name);
    }
    if (failed.length > 0) console.error(`\nbenchmarks that did not finish: ${failed.join(', ')}`);
    return failed.length > 0 ? 1 : 0;
  }
  const b = BENCHMARKS.find((x) => x.name === first);
  if (b === undefined) {
    console.error(`unknown benchmark "${first}"\n\n${listing()}`);
    return 2;
  }
  return runOne(b, rest);
}

// Imported by its test for the list; run as a script otherwise.
if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) process.exitCode = main(process.argv.slice(2));
