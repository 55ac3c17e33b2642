import { z } from 'zod';
import { IdSchema } from './ids.js';
import { SecretRefSchema } from './secret-ref.js';

/**
 * A site inventory (seeds/*.yaml, docs/design.md §4): halls, racks, devices with address and
 * profile, meter roles and levels, targets. The simulator, the agent and the collector all
 * start from it; each reads the parts it needs.
 */

export const TargetsSchema = z
  .object({
    pue: z.number().min(1).max(5).default(1.2),
    rack_occupancy: z.number().min(0).max(1).default(0.7),
    green_share: z.number().min(0).max(1).default(0.8),
  })
  .strict()
  .prefault({});
export type Targets = z.infer<typeof TargetsSchema>;

/**
 * Simulator-only hints (site, rack, device level). The agent and collector ignore them; the
 * simulator validates them with its own schema (simulators/sim-hints.ts).
 */
export const SimHintsSchema = z.record(z.string(), z.unknown());

export const HallSchema = z.object({ id: IdSchema, name: z.string().optional() }).strict();

export const RackSchema = z.object({
  id: IdSchema,
  hall: IdSchema,
  rated_kw: z.number().positive().max(500),
  status: z.enum(['available', 'reserved', 'planned']).default('available'),
  /** Racks sharing cooling (a pod or contained aisle): the alert label `rack_group`. */
  group: IdSchema.optional(),
  sim: SimHintsSchema.optional(),
}).strict();
export type Rack = z.infer<typeof RackSchema>;

export const MeterRoleSchema = z.enum(['facility_in', 'export', 'it', 'cooling', 'other', 'green_onsite', 'green_feed']);
export type MeterRole = z.infer<typeof MeterRoleSchema>;
/** IT metering level = PUE category: ups_out → 1, pdu_out → 2, it_in → 3 (ISO/IEC 30134-2). */
export const ItLevelSchema = z.enum(['ups_out', 'pdu_out', 'it_in']);
export type ItLevel = z.infer<typeof ItLevelSchema>;
export const IT_LEVEL_CATEGORY: Record<ItLevel, 1 | 2 | 3> = { ups_out: 1, pdu_out: 2, it_in: 3 };

export const MeterSchema = z
  .object({
    role: MeterRoleSchema,
    level: ItLevelSchema.optional(),
    /** Rated power, for spike detection in the energy ledger. */
    rated_kw: z.number().positive().optional(),
    /** On-site generation the utility incomers cannot see (docs/design.md §4). */
    behind_meter: z.boolean().default(false),
  })
  .strict()
  .refine((m) => m.role !== 'it' || m.level !== undefined, { message: 'an it meter needs a level (ups_out, pdu_out or it_in)', path: ['level'] });
export type Meter = z.infer<typeof MeterSchema>;

export const SnmpAddressSchema = z
  .object({
    protocol: z.literal('snmp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(161),
    version: z.enum(['1', '2c', '3']).default('2c'),
    community: SecretRefSchema.default('public'),
    /** SNMPv3 USM. */
    user: z.string().optional(),
    /** The level the device must run at; absent: the one the keys imply. Never lowered (agent/snmp/snmp-v3-security.ts). */
    security_level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']).optional(),
    auth_protocol: z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']).optional(),
    auth_key: SecretRefSchema.optional(),
    priv_protocol: z.enum(['des', 'aes', 'aes256b', 'aes256r']).optional(),
    priv_key: SecretRefSchema.optional(),
    context: z.string().optional(),
  })
  .strict();

export const ModbusAddressSchema = z
  .object({
    protocol: z.literal('modbus'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(502),
    unit_id: z.number().int().min(0).max(255).default(1),
    /** tcp: Modbus TCP (MBAP header); rtu_over_tcp: raw RTU frames with CRC on a TCP socket (transparent serial gateways). */
    transport: z.enum(['tcp', 'rtu_over_tcp']).default('tcp'),
  })
  .strict();

export const RedfishAddressSchema = z
  .object({
    protocol: z.literal('redfish'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(443),
    scheme: z.enum(['https', 'http']).default('https'),
    username: z.string().optional(),
    password: SecretRefSchema.optional(),
    /** BMCs often ship self-signed certificates; set false only with a pinned CA or on a lab network. */
    verify_tls: z.boolean().default(true),
  })
  .strict();

/**
 * A Prometheus exporter's scrape endpoint (dcgm-exporter serves :9400/metrics, npu-exporter
 * :8082/metrics), as host, port, scheme and path like the other addresses.
 */
export const PrometheusAddressSchema = z
  .object({
    protocol: z.literal('prometheus'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    scheme: z.enum(['http', 'https']).default('http'),
    path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, 'expected a path such as /metrics').default('/metrics'),
    /** Sent as `Authorization: Bearer …` (an exporter behind kube-rbac-proxy). */
    bearer_token: SecretRefSchema.optional(),
    verify_tls: z.boolean().default(true),
  })
  .strict();

export const AddressSchema = z.discriminatedUnion('protocol', [SnmpAddressSchema, ModbusAddressSchema, RedfishAddressSchema, PrometheusAddressSchema]);
export type PrometheusAddress = z.infer<typeof PrometheusAddressSchema>;
export type Address = z.infer<typeof AddressSchema>;
export type SnmpAddress = z.infer<typeof SnmpAddressSchema>;
export type ModbusAddress = z.infer<typeof ModbusAddressSchema>;
export type RedfishAddress = z.infer<typeof RedfishAddressSchema>;



export const DeviceSchema = z.object({
  id: IdSchema,
  profile: IdSchema,
  rack: IdSchema.optional(),
  hall: IdSchema.optional(),
  address: AddressSchema,
  interval_s: z.number().min(1).max(3600).default(10),
  /** Per-request timeout and retries; default from the agent's protocol policy. */
  timeout_ms: z.number().int().min(50).max(60_000).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  meter: MeterSchema.optional(),
  /** The agent that polls this device and alone may speak for it (default `site.agent`). */
  agent: IdSchema.optional(),
  sim: SimHintsSchema.optional(),
}).strict();
export type Device = z.infer<typeof DeviceSchema>;

export const GreenCertificateSchema = z.object({
  /** Certificate (绿证) id or batch id: each is counted once. */
  id: z.string().min(1),
  /** Period the certificates are applied to, YYYY-MM. */
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
  /** 1 certificate = 1,000 kWh. */
  certificates: z.number().int().positive(),
}).strict();

/** A settled green-electricity trade (绿电交易) for a period, counted once by id. */
export const GreenTradeSchema = z
  .object({
    id: z.string().min(1),
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
    kwh: z.number().positive(),
  })
  .strict();

export const SiteInventorySchema = z
  .object({
    site: z.object({
      id: IdSchema,
      name: z.string().min(1),
      timezone: z.string().default('Asia/Shanghai'),
      cluster: IdSchema.optional(),
      /** Pin the IT metering level used for PUE; default: the level all IT meters share, else the most upstream. */
      pue_it_level: ItLevelSchema.optional(),
      /** The agent that owns every device naming no `agent` of its own. */
      agent: IdSchema.optional(),
    }).strict(),
    targets: TargetsSchema,
    halls: z.array(HallSchema).min(1),
    racks: z.array(RackSchema).default([]),
    devices: z.array(DeviceSchema).min(1),
    green_certificates: z.array(GreenCertificateSchema).default([]),
    green_trades: z.array(GreenTradeSchema).default([]),
    sim: SimHintsSchema.optional(),
  })
  .strict()
  .superRefine((inv, ctx) => {
    const dup = (ids: string[], path: string) => {
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${id}`, path: [path, i, 'id'] });
        seen.add(id);
      });
    };
    dup(inv.halls.map((h) => h.id), 'halls');
    dup(inv.racks.map((r) => r.id), 'racks');
    dup(inv.devices.map((d) => d.id), 'devices');
    dup(inv.green_certificates.map((c) => c.id), 'green_certificates');
    dup(inv.green_trades.map((c) => c.id), 'green_trades');
    const halls = new Set(inv.halls.map((h) => h.id));
    const racks = new Set(inv.racks.map((r) => r.id));
    inv.racks.forEach((r, i) => {
      if (!halls.has(r.hall)) ctx.addIssue({ code: 'custom', message: `unknown hall ${r.hall}`, path: ['racks', i, 'hall'] });
    });
    inv.devices.forEach((d, i) => {
      if (d.rack !== undefined && !racks.has(d.rack)) ctx.addIssue({ code: 'custom', message: `unknown rack ${d.rack}`, path: ['devices', i, 'rack'] });
      if (d.hall !== undefined && !halls.has(d.hall)) ctx.addIssue({ code: 'custom', message: `unknown hall ${d.hall}`, path: ['devices', i, 'hall'] });
    });
    const endpoints = new Map<string, number>();
    inv.devices.forEach((d, i) => {
      const a = d.address;
      const key =
        a.protocol === 'snmp'
          ? `snmp|${a.host}|${a.port}|${a.version === '3' ? `v3|${a.user ?? ''}` : typeof a.community === 'string' ? a.community : JSON.stringify(a.community)}|${a.context ?? ''}`
          : a.protocol === 'modbus'
            ? `modbus|${a.host}|${a.port}|${a.unit_id}`
            : a.protocol === 'redfish'
              ? `redfish|${a.host}|${a.port}`
              : `prometheus|${a.host}|${a.port}|${a.path}`;
      const prev = endpoints.get(key);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', message: `same address as devices[${prev}]`, path: ['devices', i, 'address'] });
      endpoints.set(key, i);
    });
    // Ownership is all or nothing: one device without an owner in a site that names owners is a
    // gap any client could speak through.
    if (inv.site.agent === undefined && inv.devices.some((d) => d.agent !== undefined)) {
      inv.devices.forEach((d, i) => {
        if (d.agent === undefined) ctx.addIssue({ code: 'custom', message: 'no owning agent: set devices[].agent or site.agent (other devices of this site name theirs)', path: ['devices', i, 'agent'] });
      });
    }
  });
export type SiteInventory = z.infer<typeof SiteInventorySchema>;

/**
 * The agent that owns a device (docs/security.md "Identity"): the device's own `agent`, else the
 * site's. Undefined only in a site that names no owner at all (an open site).
 */
export function deviceOwner(inv: SiteInventory, device: Device): string | undefined {
  return device.agent ?? inv.site.agent;
}

/** The agents a site names, each with the ids of the devices it owns; empty for an open site. */
export function siteAgents(inv: SiteInventory): Map<string, string[]> {
  const agents = new Map<string, string[]>();
  for (const d of inv.devices) {
    const owner = deviceOwner(inv, d);
    if (owner === undefined) continue;
    const list = agents.get(owner) ?? [];
    list.push(d.id);
    agents.set(owner, list);
  }
  return agents;
}

/** The hall of a device: its own, else its rack's. */
export function deviceHall(inv: SiteInventory, device: Device): string | undefined {
  if (device.hall) return device.hall;
  return inv.racks.find((r) => r.id === device.rack)?.hall;
}

/**
 * A cluster (e.g. the Gui'an cluster's new-build sites) for the bureau's roll-ups: its own
 * targets, and the sites it covers. Declared in a clusters file the collector config names.
 */
export const ClusterSchema = z
  .object({
    id: IdSchema,
    name: z.string().min(1),
    targets: TargetsSchema,
    sites: z.array(IdSchema).min(1),
  })
  .strict();
export type Cluster = z.infer<typeof ClusterSchema>;

export const ClustersFileSchema = z.object({ clusters: z.array(ClusterSchema).min(1) }).strict();
