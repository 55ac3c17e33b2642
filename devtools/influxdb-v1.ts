import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ok } from '../shared/result.js';
import { LocalService, LOOPBACK, answers, expectOk, launch, type Launched } from './local-service.js';
import type { ManagedProcess } from './managed-process.js';

/** One series of an InfluxQL answer; `time` is epoch milliseconds (we always ask for epoch=ms). */
export interface InfluxSeries {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[];
}

const QueryResponseSchema = z.object({
  error: z.string().optional(),
  results: z
    .array(
      z.object({
        statement_id: z.number().optional(),
        error: z.string().optional(),
        series: z
          .array(
            z.object({
              name: z.string(),
              tags: z.record(z.string(), z.string()).optional(),
              columns: z.array(z.string()),
              values: z.array(z.array(z.unknown())).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

export type Precision = 'ns' | 'u' | 'ms' | 's';

export class InfluxV1 extends LocalService {
  constructor(
    proc: ManagedProcess,
    port: number,
    data_dir: string,
    /** The meta/backup RPC port, bound on loopback too so it never clashes with another instance. */
    readonly rpc_port: number,
  ) {
    super('influxd', proc, port, `http://${LOOPBACK}:${port}`, data_dir);
  }

  async createDatabase(db: string): Promise<void> {
    await this.query(undefined, `CREATE DATABASE ${quoteIdent(db)}`);
  }

  /** Write line protocol through the v1 /write endpoint. */
  async write(db: string, lines: string | readonly string[], precision: Precision = 'ms'): Promise<void> {
    const body = typeof lines === 'string' ? lines : lines.join('\n');
    const url = `${this.url}/write?${new URLSearchParams({ db, precision })}`;
    await expectOk(await fetch(url, { method: 'POST', body }), `influxd write to ${db}`);
  }

  /**
   * Run InfluxQL (POST, so CREATE/DROP work too) and return the series of every statement.
   * Any statement error throws with InfluxDB's message.
   */
  async query(db: string | undefined, influxql: string): Promise<InfluxSeries[]> {
    const form = new URLSearchParams({ q: influxql, epoch: 'ms' });
    if (db !== undefined) form.set('db', db);
    const res = await fetch(`${this.url}/query`, { method: 'POST', body: form });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`influxd query "${influxql}": HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
    }
    const parsed = QueryResponseSchema.parse(json);
    const errors = [parsed.error, ...(parsed.results ?? []).map((r) => r.error)].filter((e) => e !== undefined);
    if (errors.length > 0 || !res.ok) {
      throw new Error(`influxd query "${influxql}": HTTP ${res.status} ${errors.join('; ')}`);
    }
    return (parsed.results ?? []).flatMap((r) =>
      (r.series ?? []).map((s) => ({ name: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values ?? [] })),
    );
  }
}

/** InfluxQL identifiers in double quotes, so test database names need no care. */
function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * influxd 1.x (Debian ships 1.6.7) with a config of our own: both listeners on loopback, every
 * optional listener and the _internal monitor store off, so parallel instances share nothing.
 */
export async function startInfluxV1(): Promise<Launched<InfluxV1>> {
  const launched = await launch({
    service: 'influxd',
    binary: ['influxd'],
    port_count: 2,
    prepare: async ({ ports, dir }) => {
      const [httpPort, rpcPort] = ports as [number, number];
      const conf = path.join(dir, 'influxdb.conf');
      await writeFile(
        conf,
        [
          '# written by devtools/influxdb-v1.ts',
          'reporting-disabled = true',
          `bind-address = "${LOOPBACK}:${rpcPort}"`,
          '[meta]',
          `  dir = ${tomlString(path.join(dir, 'meta'))}`,
          '[data]',
          `  dir = ${tomlString(path.join(dir, 'data'))}`,
          `  wal-dir = ${tomlString(path.join(dir, 'wal'))}`,
          '  query-log-enabled = false',
          '[monitor]',
          '  store-enabled = false',
          '[http]',
          '  enabled = true',
          `  bind-address = "${LOOPBACK}:${httpPort}"`,
          '  log-enabled = false',
          '[subscriber]',
          '  enabled = false',
          '[[graphite]]',
          '  enabled = false',
          '[[udp]]',
          '  enabled = false',
          '[[opentsdb]]',
          '  enabled = false',
          '[[collectd]]',
          '  enabled = false',
          '',
        ].join('\n'),
      );
      return {
        args: ['run', '-config', conf],
        // INFLUXDB_* variables override the config file; a developer's shell must not leak in.
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_'))),
        probe: (signal) => answers(`http://${LOOPBACK}:${httpPort}/ping`, 204, signal),
      };
    },
  });
  if (!launched.ok) return launched;
  const { proc, ports, dir } = launched.value;
  return ok(new InfluxV1(proc, ports[0] as number, dir, ports[1] as number));
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}
