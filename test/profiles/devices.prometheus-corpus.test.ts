import { readdirSync, readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSiteModel } from '../../collector/kpi/site-model.js';
import { acceleratorSpec } from '../../collector/kpi/compute-catalogue.js';
import { SiteInventorySchema } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { inProcessDcim } from '../cli/support/run-dcim.js';
import { CORPUS_DIR as CORPUS, expectReadingsAsExpected, readExpected, type ExpectedReading, type PolledReading as R } from '../agent/support/device-corpus.js';

/**
 * The Prometheus part of the device corpus: exposition texts written from the exporters' sources
 * with our own values, served from 127.0.0.1; `dcim poll --protocol prometheus --url …` must read
 * every value to the figure worked out by hand in the fixture's expected.yaml.
 */
const fixtures = readdirSync(CORPUS).filter((d) => existsSync(join(CORPUS, d, 'metrics.prom')));

interface Expected {
  profile: string;
  readings: ExpectedReading[];
}

const bodies = new Map<string, string>();
let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  for (const f of fixtures) bodies.set(`/${f}/metrics`, readFileSync(join(CORPUS, f, 'metrics.prom'), 'utf8'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('Prometheus device corpus', () => {
  it('has the dcgm-exporter and npu-exporter fixtures', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['gpu-dcgm-h100', 'npu-ascend-910b']));
  });

  describe.each(fixtures)('%s', (fixture) => {
    const exp = readExpected<Expected>(fixture);

    it('dcim poll reads every value to the hand-worked figure', async () => {
      const r = await inProcessDcim(['poll', '--protocol', 'prometheus', '--profile', exp.profile, '--url', `http://127.0.0.1:${port}/${fixture}/metrics`, '--timeout-ms', '2000']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { device: { address: string }; readings: R[]; poll: { faults?: unknown } };
      expect(report.device.address).toBe(`prometheus http://127.0.0.1:${port}/${fixture}/metrics`);
      expect(report.poll.faults).toBeUndefined();
      expectReadingsAsExpected(report.readings, exp.readings);
    });
  });

  it('dcim poll on a text with garbage lines prints the parse faults beside the readings it still got', async () => {
    const text = readFileSync(join(CORPUS, 'npu-ascend-910b', 'metrics.prom'), 'utf8')
      .replace('npu_chip_info_power{id="1"} 92.5 1765100000000', 'npu_chip_info_power{id="1\\x"} 92.5 1765100000000')
      .replace('npu_chip_info_voltage{id="0"} 0.82 1765100000000', 'npu_chip_info_voltage{id="0"}');
    bodies.set('/garbage/metrics', text);
    const r = await inProcessDcim(['poll', '--profile', 'ascend-npu-exporter', '--url', `http://127.0.0.1:${port}/garbage/metrics`]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { readings: R[]; poll: { faults?: Record<string, number> } };
    expect(report.poll.faults).toEqual({ DCIM_E_PROM_PARSE: 2 });
    const get = (point: string, gpu: string) => report.readings.find((x) => x.point === point && x.index?.gpu === gpu);
    expect(get('gpu_power_w', '1')).toMatchObject({ quality: 'bad', error: 'DCIM_E_PROM_SERIES_MISSING' });
    expect(get('gpu_voltage_v', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_PROM_SERIES_MISSING' });
    expect(get('gpu_power_w', '0')).toMatchObject({ quality: 'good', value: 286.4 });
    expect(get('gpu_voltage_v', '1')).toMatchObject({ quality: 'good', value: 0.8 });
  });

  it('dcim poll refuses flags that do not fit a Prometheus exporter, each listed', async () => {
    const r = await inProcessDcim(['poll', '--protocol', 'snmp', '--profile', 'dcgm-exporter', '--url', 'ftp://u:p@127.0.0.1/metrics', '--community', 'public']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--protocol snmp: profile dcgm-exporter speaks prometheus');
    expect(r.stderr).toContain('--community is an SNMP option');
    expect(r.stderr).toContain('--url: ftp: is not http or https');
    expect(r.stderr).toContain('--url: no credentials in the URL');
    const snmp = await inProcessDcim(['poll', '--profile', 'apc-rpdu2', '--host', '127.0.0.1', '--url', 'http://127.0.0.1:1/metrics']);
    expect(snmp.code).toBe(1);
    expect(snmp.stderr).toContain('--url is a Prometheus option; profile apc-rpdu2 speaks snmp');
  });

  it('dcim poll on an exporter that is not there: exit 3 with DCIM_E_PROM_HTTP and its hint', async () => {
    const r = await inProcessDcim(['poll', '--profile', 'dcgm-exporter', '--url', `http://127.0.0.1:${port}/nothing-here`, '--retries', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('DCIM_E_PROM_HTTP');
    expect(r.stderr).toContain('is the path /metrics?');
  });

  it('the collector counts a dcgm-exporter and an npu-exporter device as compute, and knows their models', () => {
    const profiles = loadProfiles();
    const inv = SiteInventorySchema.parse({
      site: { id: 'p5', name: 'GPU hall', timezone: 'Asia/Shanghai' },
      halls: [{ id: 'h1', name: 'Hall 1' }],
      racks: [{ id: 'r01', hall: 'h1', rated_kw: 40 }],
      devices: [
        { id: 'gpu-node-07', profile: 'dcgm-exporter', rack: 'r01', address: { protocol: 'prometheus', host: '127.0.0.1', port: 9400 }, interval_s: 15 },
        { id: 'atlas-01', profile: 'ascend-npu-exporter', rack: 'r01', address: { protocol: 'prometheus', host: '127.0.0.1', port: 8082 }, interval_s: 15 },
      ],
    });
    const model = buildSiteModel(inv, profiles);
    expect(model.compute.get('gpu-node-07')).toMatchObject({ gpu_model_point: 'gpu_model', gpu_util_point: 'gpu_utilisation_pct' });
    expect(model.compute.get('atlas-01')).toMatchObject({ gpu_model_point: 'gpu_model', gpu_util_point: 'gpu_utilisation_pct' });
    // The fixtures' model names are ones the compute catalogue prices.
    expect(acceleratorSpec('NVIDIA H100 80GB HBM3')?.id).toBe('nvidia-h100-sxm');
    expect(acceleratorSpec('Ascend-910B3-V1')?.id).toBe('huawei-ascend-910b');
  });
});
