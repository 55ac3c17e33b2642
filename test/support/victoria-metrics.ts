import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ok } from '../../shared/result.js';
import { LocalService, LOOPBACK, answers, expectOk, launch, type Launched } from './local-service.js';
import type { ManagedProcess } from './managed-process.js';

/** One series from /api/v1/export: labels, and raw samples with epoch-millisecond timestamps. */
export interface VmSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly number[];
  readonly timestamps: readonly number[];
}

const ExportLineSchema = z.object({
  metric: z.record(z.string(), z.string()),
  values: z.array(z.number()),
  timestamps: z.array(z.number()),
});

export class VictoriaMetrics extends LocalService {
  constructor(proc: ManagedProcess, port: number, data_dir: string) {
    super('victoria-metrics', proc, port, `http://${LOOPBACK}:${port}`, data_dir);
  }

  /** Make buffered samples searchable (VM otherwise keeps fresh rows in memory for ~1 s). */
  async flush(): Promise<void> {
    await expectOk(await fetch(`${this.url}/internal/force_flush`), 'victoria-metrics force_flush');
  }

  /** Flush, then the raw samples of every series matching a selector such as `{__name__=~"pdu_.*"}`. */
  async exportSeries(selector: string): Promise<VmSeries[]> {
    await this.flush();
    const body = new URLSearchParams({ 'match[]': selector });
    const text = await expectOk(
      await fetch(`${this.url}/api/v1/export`, { method: 'POST', body }),
      `victoria-metrics export ${selector}`,
    );
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ExportLineSchema.parse(JSON.parse(line)));
  }

  /**
   * Poll exportSeries until `until` holds. Needed because a write is acknowledged before its
   * series is registered in the index, so even a flushed write can be invisible for a moment.
   */
  async waitForSeries(
    selector: string,
    until: (series: VmSeries[]) => boolean = (s) => s.length > 0,
    timeout_ms = 5_000,
  ): Promise<VmSeries[]> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const series = await this.exportSeries(selector);
      if (until(series)) return series;
      if (Date.now() >= deadline) {
        throw new Error(`victoria-metrics: ${selector} did not reach the expected state in ${timeout_ms} ms; last export: ${JSON.stringify(series).slice(0, 500)}`);
      }
      await sleep(100);
    }
  }
}

/**
 * Single-node VictoriaMetrics. The InfluxDB line-protocol endpoints (/write, /api/v2/write) turn
 * `measurement field=v` into the metric `measurement_field`. Queries see samples up to "now"
 * (no latency offset) and skip the result cache, so a test reads back exactly what it wrote.
 */
export async function startVictoriaMetrics(): Promise<Launched<VictoriaMetrics>> {
  const launched = await launch({
    service: 'victoria-metrics',
    binary: ['victoria-metrics', 'victoria-metrics-prod'],
    port_count: 1,
    prepare: async ({ ports, dir }) => {
      const [port] = ports as [number];
      return {
        args: [
          `-httpListenAddr=${LOOPBACK}:${port}`,
          `-storageDataPath=${path.join(dir, 'data')}`,
          // Test data may carry fixed timestamps years in the past.
          '-retentionPeriod=100y',
          '-search.latencyOffset=0s',
          '-search.disableCache',
        ],
        probe: (signal) => answers(`http://${LOOPBACK}:${port}/health`, 200, signal),
      };
    },
  });
  if (!launched.ok) return launched;
  const { proc, ports, dir } = launched.value;
  return ok(new VictoriaMetrics(proc, ports[0] as number, dir));
}

/**
 * VictoriaMetrics scraping `job` every second on a second free loopback port (`target`), where the
 * test serves the metric text: a third-party scraper must take every sample the text holds.
 */
export async function startScrapingVictoriaMetrics(job: string): Promise<Launched<VictoriaMetrics & { target: number }>> {
  const launched = await launch({
    service: 'victoria-metrics',
    binary: ['victoria-metrics', 'victoria-metrics-prod'],
    port_count: 2, // [VM's HTTP, the scraped /metrics]
    prepare: async ({ ports, dir }) => {
      const [port, target] = ports as [number, number];
      const config = path.join(dir, 'scrape.yml');
      writeFileSync(config, `scrape_configs:\n  - job_name: ${job}\n    scrape_interval: 1s\n    static_configs: [{ targets: ["${LOOPBACK}:${target}"] }]\n`);
      return {
        args: [`-httpListenAddr=${LOOPBACK}:${port}`, `-storageDataPath=${path.join(dir, 'data')}`, `-promscrape.config=${config}`, '-search.latencyOffset=0s', '-search.disableCache'],
        probe: (signal) => answers(`http://${LOOPBACK}:${port}/health`, 200, signal),
      };
    },
  });
  if (!launched.ok) return launched;
  const { proc, ports, dir } = launched.value;
  return ok(Object.assign(new VictoriaMetrics(proc, ports[0] as number, dir), { target: ports[1] as number }));
}
