import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ok } from '../../shared/result.js';
import { LocalService, LOOPBACK, answers, expectOk, launch, type Launched } from './local-service.js';
import type { ManagedProcess } from './managed-process.js';

/** The fields of Alertmanager's API v2 `gettableAlert` that tests look at (wire names kept). */
export interface AlertmanagerAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly fingerprint: string;
  readonly receivers: readonly string[];
  readonly state: string;
}

const GettableAlertsSchema = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).optional(),
    startsAt: z.string(),
    endsAt: z.string(),
    fingerprint: z.string(),
    receivers: z.array(z.object({ name: z.string() })),
    status: z.object({ state: z.string() }),
  }),
);

/** Routes everything to a receiver that sends nothing: enough to store and list alerts. */
export const BLACKHOLE_CONFIG = ['route:', '  receiver: blackhole', 'receivers:', '  - name: blackhole', ''].join('\n');

export interface AlertmanagerOptions {
  /** alertmanager.yml; receivers may point at a webhook server the test runs on 127.0.0.1. */
  readonly config_yaml?: string;
}

export class Alertmanager extends LocalService {
  constructor(proc: ManagedProcess, port: number, data_dir: string) {
    super('alertmanager', proc, port, `http://${LOOPBACK}:${port}`, data_dir);
  }

  /** GET /api/v2/alerts, optionally with matchers such as `alertname="PueHigh"`. */
  async alerts(filter: readonly string[] = []): Promise<AlertmanagerAlert[]> {
    const query = new URLSearchParams(filter.map((f): [string, string] => ['filter', f]));
    const text = await expectOk(await fetch(`${this.url}/api/v2/alerts?${query}`), 'alertmanager GET /api/v2/alerts');
    return GettableAlertsSchema.parse(JSON.parse(text)).map((a) => ({
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      fingerprint: a.fingerprint,
      receivers: a.receivers.map((r) => r.name),
      state: a.status.state,
    }));
  }
}

/** Prometheus Alertmanager on loopback, clustering off (an empty cluster address disables gossip). */
export async function startAlertmanager(opts: AlertmanagerOptions = {}): Promise<Launched<Alertmanager>> {
  const launched = await launch({
    service: 'alertmanager',
    binary: ['prometheus-alertmanager', 'alertmanager'],
    port_count: 1,
    prepare: async ({ ports, dir }) => {
      const [port] = ports as [number];
      const conf = path.join(dir, 'alertmanager.yml');
      await writeFile(conf, opts.config_yaml ?? BLACKHOLE_CONFIG);
      return {
        args: [
          `--config.file=${conf}`,
          `--storage.path=${path.join(dir, 'data')}`,
          `--web.listen-address=${LOOPBACK}:${port}`,
          '--cluster.listen-address=',
        ],
        probe: (signal) => answers(`http://${LOOPBACK}:${port}/-/ready`, 200, signal),
      };
    },
  });
  if (!launched.ok) return launched;
  const { proc, ports, dir } = launched.value;
  return ok(new Alertmanager(proc, ports[0] as number, dir));
}
