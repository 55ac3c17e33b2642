import { describe, expect, it } from 'vitest';
import { alertPoint } from '../../collector/alerts/alert-points.js';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { KPI_FIXED_FIELDS as COLLECTOR_KPI_FIELDS, kpiPoint } from '../../collector/store/kpi-points.js';
import { isIntField, type FieldValue, type MetricPoint } from '../../collector/store/metric-point.js';
import { readingPoints } from '../../collector/store/reading-points.js';
import { agentHealthPoint, deviceStatusPoint } from '../../collector/store/state-points.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import type { Reading, TelemetryMessage } from '../../contract/messages.js';
import { profilePoints } from '../../contract/profile.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { AGENT_HEALTH_FIELDS, type FieldKind } from '../../contract/storage-schema.js';
import { KPI_CATALOGUE } from '../../collector/kpi/registry/index.js';
import { KPI_FIXED_FIELD_SPECS as KPI_FIXED_FIELDS, storeSchema } from '../../collector/store/kpi-schema.js';
import { repoPath } from '../support/repo-path.js';

/**
 * contract/storage-schema.ts against the code that writes the store: every point the collector's
 * point builders make from real inputs must be in the catalogue, with the declared field types.
 * A renamed profile point, KPI, window, basis, health field or alert field fails here.
 */
const profiles = loadProfiles();
const schema = storeSchema(profiles.values());
const demo = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));

function kindOf(v: FieldValue): FieldKind {
  if (isIntField(v)) return 'integer';
  if (typeof v === 'number') return 'float';
  return typeof v === 'string' ? 'string' : 'boolean';
}

/** Problems of one point against the catalogue: unknown measurement, tag, field, or a field of another type. */
function problemsOf(p: MetricPoint): string[] {
  const spec = schema.get(p.measurement);
  if (!spec) return [`no measurement ${p.measurement}`];
  const out: string[] = [];
  for (const [tag, value] of Object.entries(p.tags)) {
    if (value === undefined) continue;
    const t = spec.tags[tag];
    if (!t) out.push(`${p.measurement}: tag ${tag}`);
    else if (t.values && !t.values.includes(value)) out.push(`${p.measurement}: ${tag}=${value}`);
  }
  for (const [field, value] of Object.entries(p.fields)) {
    if (value === undefined) continue;
    const f = spec.fields[field];
    if (!f) out.push(`${p.measurement}: field ${field}`);
    else if (f.kind !== kindOf(value)) out.push(`${p.measurement}: field ${field} is ${kindOf(value)}, catalogue says ${f.kind}`);
    else if (f.values && typeof value === 'string' && !f.values.includes(value)) out.push(`${p.measurement}: ${field}=${value}`);
  }
  return out;
}

describe('contract/storage-schema.ts', () => {
  it('has a measurement per device class with a profile, plus kpi, agent_health, device_status, alert and site_summary', () => {
    expect([...schema.keys()].sort()).toEqual(['agent_health', 'alert', 'chiller', 'crah', 'device_status', 'generic', 'gpu', 'kpi', 'meter', 'pdu', 'pv_inverter', 'sensor', 'site_summary', 'ups']);
  });

  it.each([
    ['pdu', 'active_power_w', 'float'],
    ['pdu', 'load_state', 'string'],
    ['pdu', 'outlet_energy_kwh', 'float'],
    ['chiller', 'running', 'boolean'],
    ['chiller', 'compressor_alarm', 'boolean'],
    ['gpu', 'gpu_model', 'string'],
    ['ups', 'alarms_present_count', 'float'],
    ['kpi', 'window_start_ms', 'integer'],
    ['agent_health', 'devices_down_count', 'integer'],
    ['agent_health', 'poll_duration_max_ms', 'float'],
    ['device_status', 'up', 'boolean'],
  ] as const)('%s.%s is %s', (m, f, kind) => {
    expect(schema.get(m)?.fields[f]?.kind).toBe(kind);
  });

  it('gives table measurements their index tags', () => {
    expect(Object.keys(schema.get('pdu')!.tags)).toEqual(expect.arrayContaining(['phase', 'outlet']));
    expect(Object.keys(schema.get('gpu')!.tags)).toEqual(expect.arrayContaining(['gpu', 'cpu']));
    expect(Object.keys(schema.get('ups')!.tags)).toContain('line');
  });

  it('lists the fields the collector writes on every kpi point', () => {
    expect(Object.keys(KPI_FIXED_FIELDS).sort()).toEqual([...COLLECTOR_KPI_FIELDS].sort());
  });

  it('holds every raw point the collector writes, with the type of the value the agent decodes (profile test vectors)', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const p of profiles.values()) {
      const index = new Map(profilePoints(p).map((r) => [r.name, r.index_tag]));
      const readings: Reading[] = p.test_vectors
        .filter((v) => v.expected !== null)
        .map((v) => {
          const tag = index.get(v.point);
          return { point: v.point, value: v.expected as number | string | boolean, quality: 'good', ...(tag ? { index: { [tag]: '1' } } : {}) };
        });
      const msg: TelemetryMessage = { schema: 1, agent: 'a', site: 's', device: 'd', class: p.class, seq: 1, ts: 1, readings, poll: { ms: 1, requests: 1, retries: 0 } };
      for (const point of readingPoints(msg, { hall: 'h1', rack: 'r1', role: 'it', level: 'pdu_out' })) {
        checked += Object.keys(point.fields).length;
        problems.push(...problemsOf(point).map((x) => `${p.id}: ${x}`));
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it('holds agent_health and device_status points as the collector builds them', () => {
    const health = Object.fromEntries(AGENT_HEALTH_FIELDS.map((k, i) => [k, i + 0.5]));
    const points = [
      agentHealthPoint('s', 'a', { online: true, ts: 1, version: '0.1.0', devices: 3, bd_seq: 2, health }),
      agentHealthPoint('s', 'a', { online: false, ts: 2, version: '0.1.0', devices: 3, bd_seq: 2 }),
      deviceStatusPoint('s', 'd', { hall: 'h1', rack: 'r1', role: 'it', level: 'pdu_out' }, { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: 5, last_ok: 3 }),
      deviceStatusPoint('s', 'd', {}, { state: 'up', since: 5, last_ok: null }),
    ];
    expect(points.flatMap(problemsOf)).toEqual([]);
  });

  it('holds every KPI point the engine produces, each with its own windows, basis labels and inputs', () => {
    const engine = KpiEngine.create({
      inventories: [demo],
      profiles,
      clusters: [{ id: 'guian', name: "Gui'an", targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['demo'] }],
    });
    const at = Date.UTC(2026, 5, 15, 12);
    const values = [...engine.evaluate('demo', at).map((v) => ['site', v] as const), ...engine.evaluateCluster('guian', at).map((v) => ['cluster', v] as const)];
    expect(values.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const [scope, v] of values) {
      const spec = KPI_CATALOGUE.get(v.kpi);
      if (!spec) {
        problems.push(`kpi ${v.kpi}`);
        continue;
      }
      const basis = scope === 'site' ? spec.site_basis : spec.cluster_basis;
      if (!spec.windows.includes(v.window)) problems.push(`${v.kpi}: window ${v.window}`);
      if (!basis.includes(v.basis)) problems.push(`${v.kpi} (${scope}): basis ${v.basis}`);
      for (const input of Object.keys(v.inputs ?? {})) if (!spec.inputs.includes(input)) problems.push(`${v.kpi}: input ${input}`);
      problems.push(...problemsOf(kpiPoint(scope === 'site' ? 'demo' : 'guian', v)));
    }
    expect(problems).toEqual([]);
    // Every KPI of the catalogue is produced for a site.
    expect(new Set(values.filter(([s]) => s === 'site').map(([, v]) => v.kpi))).toEqual(new Set(KPI_CATALOGUE.keys()));
  });

  it('holds the alert points the alert engine writes', () => {
    const alert = {
      id: 'a1b2',
      rule: 'rack_inlet_temperature',
      name: 'Rack inlet temperature',
      severity: 'critical' as const,
      labels: { site: 's', hall: 'h1', rack_group: 'pod-a', rack: 'r1', device: 'th-r1' },
      state: 'resolved' as const,
      pending_since: null,
      starts_at: 1000,
      ends_at: 61_000,
      value: 33.5,
      summary: 'Rack r1 inlet 33.5 °C',
      description: '',
      runbook: null,
      runbook_url: null,
      inhibited: false,
      last_event_at: null,
      version: 2,
      changed_at: 61_000,
      delivered: {},
      updated_at: 61_000,
    };
    const points = [alertPoint({ kind: 'firing', alert: { ...alert, state: 'firing', ends_at: null }, at_ms: 1000 }), alertPoint({ kind: 'resolved', alert, at_ms: 61_000 })];
    expect(points.flatMap(problemsOf)).toEqual([]);
    expect(points[1]!.fields).toMatchObject({ state: 'resolved', duration_s: 60 });
  });
});
