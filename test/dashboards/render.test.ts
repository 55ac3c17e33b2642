import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadProfiles } from '../../profiles/catalogue.js';
import { storeSchema } from '../../collector/store/kpi-schema.js';
import { checkDashboard, dashboardQueries, type DashboardJson } from '../../dashboards/check-dashboard.js';
import { DATASOURCE_UID } from '../../dashboards/grafana/panels.js';
import { renderDashboards } from '../../dashboards/render.js';
import { repoPath } from '../support/repo-path.js';

const DIR = repoPath('dashboards');
const schema = storeSchema(loadProfiles().values());
const committed = readdirSync(join(DIR, 'json'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: `json/${f}`, text: readFileSync(join(DIR, 'json', f), 'utf8') }));

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; query: string; rawQuery: boolean; datasource: { type: string; uid: string }; resultFormat: string }[];
}
interface Dash extends DashboardJson {
  uid: string;
  schemaVersion: number;
  id: null;
  panels: Panel[];
  templating: { list: { type: string; name: string; current?: { value?: string } }[] };
}
const dashboards = committed.map((c) => ({ ...c, json: JSON.parse(c.text) as Dash }));

describe('committed dashboards', () => {
  it('are exactly what the generator writes (run npx tsx dashboards/generate.ts after a change)', () => {
    const rendered = renderDashboards();
    expect(committed.map((c) => c.file)).toEqual(rendered.map((r) => r.file).sort());
    for (const r of rendered) expect(committed.find((c) => c.file === r.file)?.text, r.file).toBe(r.text);
  });

  it('are the three dashboards (the bureau one in English and Chinese), with stable uids', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(['dcim-bureau-overview', 'dcim-bureau-overview-zh-cn', 'dcim-device-health', 'dcim-site-operations']);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s names only measurements, fields and tags of contract/storage-schema.ts', (_, d) => {
    expect(checkDashboard(d, schema)).toEqual([]);
  });

  it('would fail on a panel naming something the contract does not have', () => {
    const site = structuredClone(dashboards.find((d) => d.json.uid === 'dcim-site-operations')!.json);
    const panel = site.panels.find((p) => p.title === 'Chilled water temperatures')!;
    panel.targets![0]!.query = panel.targets![0]!.query.replace('"chw_supply_temp_c"', '"chw_supply_c"');
    const bureau = structuredClone(dashboards.find((d) => d.json.uid === 'dcim-bureau-overview')!.json);
    const window = bureau.templating.list.find((v) => v.name === 'occupancy_window') as unknown as { options: { value: string }[] };
    window.options.push({ value: 'ytd' });
    expect(checkDashboard(site, schema)).toEqual(['dcim-site-operations: panel "Chilled water temperatures" A: mean(): chiller has no field "chw_supply_c"']);
    expect(checkDashboard(bureau, schema).join('\n')).toMatch(/\(\$occupancy_window=ytd\): WHERE: "ytd" is not a value of tag "window" in kpi \(rack_occupancy_ratio\)/);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s: Grafana 10/11 model, InfluxQL targets on the datasource variable, a tidy grid', (_, d) => {
    expect(d.schemaVersion).toBe(39);
    expect(d.id).toBeNull();
    const ds = d.templating.list.find((v) => v.type === 'datasource');
    expect(ds?.name).toBe('datasource');
    expect(ds?.current?.value).toBe(DATASOURCE_UID);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w >= 1 && x + w <= 24 && h >= 1, `${p.title} ${JSON.stringify(p.gridPos)}`).toBe(true);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
        cells.add(`${i},${j}`);
      }
      if (p.type === 'row') continue;
      expect(p.description?.length ?? 0, `${p.title} explains itself`).toBeGreaterThan(40);
      expect(p.datasource).toEqual({ type: 'influxdb', uid: '${datasource}' });
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t).toMatchObject({ rawQuery: true, datasource: { type: 'influxdb', uid: '${datasource}' } });
        expect(['time_series', 'table']).toContain(t.resultFormat);
      }
    }
  });

  it('read the alert annotations and the query variables through InfluxQL too', () => {
    const all = dashboards.flatMap((d) => dashboardQueries(d.json)).map((q) => `${q.dashboard} ${q.where}`);
    expect(all.filter((w) => / (annotation|variable) /.test(w)).sort()).toEqual([
      'dcim-device-health variable agent',
      'dcim-device-health variable site',
      'dcim-site-operations annotation "Firing alerts"',
      'dcim-site-operations annotation "Resolved alerts"',
      'dcim-site-operations variable hall',
      'dcim-site-operations variable site',
    ]);
  });
});

describe('provisioning', () => {
  it('declares the InfluxQL datasource the dashboards default to, from the environment', () => {
    const ds = parseYaml(readFileSync(join(DIR, 'provisioning', 'datasources', 'dcim.yaml'), 'utf8')) as { apiVersion: number; datasources: Record<string, unknown>[] };
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]).toMatchObject({
      uid: DATASOURCE_UID,
      type: 'influxdb',
      url: '${DCIM_INFLUX_URL}',
      database: '${DCIM_INFLUX_DATABASE}',
      jsonData: { version: 'InfluxQL', dbName: '${DCIM_INFLUX_DATABASE}' },
    });
  });

  it('loads the dashboards from one folder, read-only in the UI', () => {
    const p = parseYaml(readFileSync(join(DIR, 'provisioning', 'dashboards', 'dcim.yaml'), 'utf8')) as { apiVersion: number; providers: Record<string, unknown>[] };
    expect(p.apiVersion).toBe(1);
    expect(p.providers[0]).toMatchObject({ type: 'file', folder: 'DCIM', allowUiUpdates: false, options: { path: '/var/lib/grafana/dashboards/dcim' } });
  });
});
