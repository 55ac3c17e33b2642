import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadReportConfig } from '../../../collector/report/report-config.js';
import { CLUSTER, siteInventories } from './support/summarised-sites.js';

/** The report's view of a site collector's and a bureau's config: store, sites, clusters, settle time. */
const dir = mkdtempSync(join(tmpdir(), 'dcim-report-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, body: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : stringify(body));
  return file;
};
write('clusters.yaml', { clusters: [{ ...CLUSTER, sites: ['hs3', 'hs'] }] });
const mqtt = { url: 'mqtt://127.0.0.1:1883' };

describe('loadReportConfig', () => {
  it('a site collector config: the inventories’ names and time zones, its clusters, its settle time, the store path made absolute', () => {
    const seeds = siteInventories().map((inv) => write(`${inv.site.id}.yaml`, { ...inv, site: { ...inv.site, timezone: inv.site.id === 'hs2' ? 'Asia/Urumqi' : inv.site.timezone } }));
    const c = loadReportConfig(write('collector.yaml', { collector: { id: 'main', sites: seeds, clusters: 'clusters.yaml' }, mqtt, store: { kind: 'sqlite', path: 'x.sqlite' }, kpi: { settle_s: 90 } }));
    expect(c).toMatchObject({ kind: 'collector', store: { kind: 'sqlite', path: join(dir, 'x.sqlite') }, settle_ms: 90_000 });
    expect(c.sites).toEqual([
      { id: 'hs', name: 'Site hs', timezone: 'Asia/Shanghai' },
      { id: 'hs2', name: 'Site hs2', timezone: 'Asia/Urumqi' },
      { id: 'hs3', name: 'Site hs3', timezone: 'Asia/Shanghai' },
    ]);
    expect(c.clusters.map((x) => x.id)).toEqual(['c1']);
  });

  it('a bureau config: the clusters’ sites by id (their zones come from their summaries), its store and settle time', () => {
    const c = loadReportConfig(write('bureau.yaml', { bureau: { id: 'b', clusters: 'clusters.yaml' }, mqtt, store: { kind: 'influx_v1', url: 'http://127.0.0.1:8086', database: 'bureau' }, kpi: { settle_s: 30 } }));
    expect(c).toMatchObject({ kind: 'bureau', store: { kind: 'influx_v1', database: 'bureau' }, settle_ms: 30_000 });
    expect(c.sites).toEqual([
      { id: 'hs', name: 'hs' },
      { id: 'hs3', name: 'hs3' },
    ]);
  });

  it('a missing file, bad YAML and an invalid bureau config each with their code', () => {
    expect(() => loadReportConfig(join(dir, 'none.yaml'))).toThrow(expect.objectContaining({ code: 'DCIM_E_CONFIG_UNREADABLE' }));
    expect(() => loadReportConfig(write('bad.yaml', 'bureau: [\n'))).toThrow(expect.objectContaining({ code: 'DCIM_E_CONFIG_UNREADABLE' }));
    expect(() => loadReportConfig(write('b2.yaml', { bureau: { id: 'b', clusters: 'clusters.yaml' }, mqtt, store: { kind: 'nope' } }))).toThrow(expect.objectContaining({ code: 'DCIM_E_CONFIG_INVALID' }));
  });
});
