import type { DeviceClass } from './ids.js';
import { ItLevelSchema, MeterRoleSchema } from './inventory.js';
import { ALERT_SEVERITIES, DeviceStateSchema } from './messages.js';
import { profilePoints, type DeviceProfile } from './profile.js';
import { SUMMARY_WINDOWS } from './summary.js';
import { unitForName } from './units.js';

/**
 * What the pipeline writes to the time-series store (docs/design.md §7), as data: every measurement
 * with its tags and typed fields. Raw measurements follow from the device profiles (one field per
 * point, one measurement per class); `agent_health`, `device_status` and `alert` are declared here;
 * `kpi` follows from the collector's KPI registry and is passed in (collector/store/kpi-schema.ts).
 * Dashboards are checked against this catalogue, and the pipeline test checks that the store holds
 * nothing the catalogue lacks, so a renamed point or KPI input breaks a test instead of a panel.
 */

/** InfluxDB field types: a field keeps its type forever, so readers may rely on it. */
export type FieldKind = 'float' | 'integer' | 'string' | 'boolean';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** The closed set of values of a string field, when it has one. */
  readonly values?: readonly string[];
}

export interface TagSpec {
  /** The closed set of values, when the tag has one (ids such as site or device have none). */
  readonly values?: readonly string[];
}

export interface MeasurementSpec {
  readonly tags: Readonly<Record<string, TagSpec>>;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** What the point's timestamp is. */
  readonly time: string;
}

export type StorageSchema = ReadonlyMap<string, MeasurementSpec>;

/**
 * The agent's self-metrics (AgentState.health, built by agent/metrics/health-map.ts), stored as
 * `agent_health` fields beside the birth/death state, with their help text (the agent's /metrics
 * and the dashboards use it). `_count` fields are integers, the others floats.
 */
export const AGENT_HEALTH_HELP = {
  uptime_s: 'Seconds since the agent started.',
  devices_count: 'Devices this agent polls.',
  devices_up_count: 'Devices whose last poll read every point it asked for.',
  devices_degraded_count: 'Devices whose last poll read some points and failed on others.',
  devices_down_count: 'Devices whose last poll read nothing.',
  devices_unpolled_count: 'Devices whose first poll has not finished.',
  devices_backing_off_count: 'Dead devices polled less often than their interval (back-off).',
  polls_total_count: 'Polls since the agent started.',
  poll_errors_count: 'Polls that read nothing (device down), since the agent started.',
  poll_requests_count: 'Protocol requests sent, retries included.',
  poll_retries_count: 'Requests sent again after a timeout or busy answer.',
  poll_timeouts_count: 'Requests that got no answer within the timeout.',
  poll_overruns_count: 'Poll slots skipped because a poll outlasted its interval.',
  poll_probes_count: 'Polls sent as probes of dead devices (one request, no retries).',
  poll_duration_max_ms: "The slowest device's last poll.",
  poll_duration_mean_ms: "Mean of every device's last poll.",
  polls_in_flight_count: 'Polls running now.',
  polls_queued_count: 'Polls due and waiting under the concurrency cap.',
  readings_dropped_count: 'Readings the message contract refused.',
  telemetry_published_count: 'Telemetry messages acknowledged by the broker.',
  telemetry_backlog_count: 'Telemetry from before the current connection, waiting to be replayed.',
  telemetry_refused_count: 'Telemetry never spooled (contract check or spool refusal).',
  spool_records_count: 'Records in the disk spool waiting for their PUBACK.',
  spool_pending_mib: 'Size of the waiting records, MiB.',
  spool_disk_mib: 'Spool segment files on disk, MiB.',
  spool_oldest_age_s: 'Age of the oldest waiting record (0 when empty).',
  spool_dropped_count: 'Records dropped at the spool byte or age bound.',
  spool_refused_count: 'Records the spool refused to write (disk full or failing).',
  mqtt_connected: '1 while connected to the broker, else 0.',
  mqtt_connects_count: 'Broker connections (the first and every reconnect).',
  snmp_refused_answers_count: 'SNMP answers refused as unreadable or not ours (bad BER, another community, version or PDU).',
} as const;
export type AgentHealthField = keyof typeof AGENT_HEALTH_HELP;
export const AGENT_HEALTH_FIELDS = Object.keys(AGENT_HEALTH_HELP) as readonly AgentHealthField[];

/** Only transitions are stored: one point when an alert fires, one when it resolves. */
export const ALERT_STATES = ['firing', 'resolved'] as const;

/** Where a device sits, from the inventory: on every raw and device_status point. */
const LOCATION_TAGS: Record<string, TagSpec> = {
  site: {},
  device: {},
  hall: {},
  rack: {},
  role: { values: MeterRoleSchema.options },
  level: { values: ItLevelSchema.options },
};

interface RawPoint {
  name: string;
  unit?: string | undefined;
  type?: string;
  enum?: unknown;
  bit?: number | undefined;
}

function rawPoints(p: DeviceProfile): RawPoint[] {
  switch (p.protocol) {
    case 'modbus':
      return p.points;
    case 'snmp':
      return [...p.points, ...p.tables.flatMap((t) => t.columns)];
    case 'redfish':
      return [...p.resources.flatMap((r) => r.points), ...p.collections.flatMap((c) => c.points)];
    case 'prometheus':
      // A point that reads a label (the GPU model) carries the label's text, not a sample value.
      return [...p.points, ...p.tables.flatMap((t) => t.columns)].map((x) => (x.label !== undefined ? { ...x, type: 'string' } : x));
  }
}

/** The type a point's value is stored with: numbers (counters too) as floats (collector/store/reading-points.ts). */
function fieldKindOf(point: RawPoint): FieldKind {
  if (point.unit !== undefined || unitForName(point.name) !== undefined) return 'float';
  if (point.enum !== undefined || point.type === 'string' || point.type === 'enum') return 'string';
  if (point.type === 'bool' || point.bit !== undefined) return 'boolean';
  return 'float';
}

/**
 * The whole catalogue. Pure: the profiles and the `kpi` measurement are passed in (profiles/catalogue.ts
 * loadProfiles reads the profiles; the collector's store builds `kpi` from its KPI registry). A
 * class's measurement holds the points of all its profiles; table points add their index tag.
 */
export function storageSchema(profiles: Iterable<DeviceProfile>, kpi: MeasurementSpec): StorageSchema {
  const raw = new Map<DeviceClass, { tags: Record<string, TagSpec>; fields: Record<string, FieldSpec> }>();
  for (const p of profiles) {
    let m = raw.get(p.class);
    if (!m) raw.set(p.class, (m = { tags: { ...LOCATION_TAGS }, fields: {} }));
    for (const ref of profilePoints(p)) if (ref.index_tag !== undefined) m.tags[ref.index_tag] = {};
    for (const point of rawPoints(p)) m.fields[point.name] ??= { kind: fieldKindOf(point) };
  }
  const schema = new Map<string, MeasurementSpec>();
  for (const [cls, m] of [...raw].sort(([a], [b]) => a.localeCompare(b))) schema.set(cls, { ...m, time: 'the poll start (telemetry ts)' });
  schema.set('kpi', kpi);
  schema.set('agent_health', {
    tags: { site: {}, agent: {} },
    fields: {
      online: { kind: 'boolean' },
      devices: { kind: 'integer' },
      bd_seq: { kind: 'integer' },
      version: { kind: 'string' },
      ...Object.fromEntries(AGENT_HEALTH_FIELDS.map((n) => [n, { kind: n.endsWith('_count') ? 'integer' : 'float' } satisfies FieldSpec])),
    },
    time: "the agent's state ts",
  });
  schema.set('device_status', {
    tags: { ...LOCATION_TAGS },
    fields: { state: { kind: 'string', values: DeviceStateSchema.options }, up: { kind: 'boolean' }, code: { kind: 'string' }, last_ok_ms: { kind: 'integer' } },
    time: 'when the state began (since)',
  });
  // collector/alerts/alert-points.ts; the alert id is a field: tags stay bounded identity.
  schema.set('alert', {
    tags: { site: {}, rule: {}, severity: { values: ALERT_SEVERITIES }, hall: {}, rack_group: {}, rack: {}, device: {} },
    fields: {
      state: { kind: 'string', values: ALERT_STATES },
      summary: { kind: 'string' },
      alert_id: { kind: 'string' },
      value: { kind: 'float' },
      duration_s: { kind: 'float' },
    },
    time: 'the transition (firing or resolved); a resolved point carries how long the alert fired',
  });
  // collector/federation/summary-points.ts: a site's summary of one closed window, as sent to the
  // bureau (the site's own store and the bureau's); a revision overwrites the same point.
  schema.set(SUMMARY_MEASUREMENT, {
    tags: { site: {}, window: { values: SUMMARY_WINDOWS } },
    fields: {
      revision: { kind: 'integer' },
      generated_ms: { kind: 'integer' },
      window_end_ms: { kind: 'integer' },
      body: { kind: 'string' },
    },
    time: 'the window start',
  });
  return schema;
}

/** Where site summaries are stored. */
export const SUMMARY_MEASUREMENT = 'site_summary';
