import { z } from 'zod';
import { IdSchema, type SiteInventory } from '../contract/index.js';
import { parseWith } from '../shared/config/load.js';
import { DeviceFaultsSchema } from './faults/fault-spec.js';

/**
 * The simulator's reading of the seeds' opaque `sim:` blocks (contract/inventory.ts leaves them
 * open so the agent and collector ignore them). Every block is strict: a typo in a seed is an
 * error with file and path, never a silent default. All fields are optional; the model's
 * defaults are a Gui'an-like site.
 */

export const WORKLOADS = ['general', 'gpu_training', 'storage', 'idle', 'empty'] as const;
export const WorkloadSchema = z.enum(WORKLOADS);
export type Workload = z.infer<typeof WorkloadSchema>;

/** Outdoor climate; defaults are Guiyang/Gui'an (published climate normals). */
export const ClimateHintsSchema = z
  .object({
    /** Annual mean dry-bulb temperature. */
    mean_c: z.number().min(-30).max(40).optional(),
    /** Half the difference between the warmest and the coldest month. */
    seasonal_c: z.number().min(0).max(30).optional(),
    /** Half the day–night swing. */
    daily_c: z.number().min(0).max(15).optional(),
    /** Mean relative humidity, 0–1. */
    humidity_ratio: z.number().min(0.05).max(1).optional(),
    /** Mean cloud cover, 0 (clear) – 1 (overcast). */
    cloudiness_ratio: z.number().min(0).max(1).optional(),
  })
  .strict();

export const SiteSimHintsSchema = z
  .object({
    latitude_deg: z.number().min(-90).max(90).optional(),
    longitude_deg: z.number().min(-180).max(180).optional(),
    climate: ClimateHintsSchema.optional(),
    /** PV peak power behind the meter, split over the site's PV inverters (each may give its own `kwp`). */
    pv_kwp: z.number().min(0).max(1_000_000).optional(),
    /** Share of the grid draw bought as green electricity (carried by the `green_feed` meters). */
    green_feed_share: z.number().min(0).max(1).optional(),
    /** Phase-to-neutral grid voltage (China 220 V, GB/T 156). */
    grid_voltage_v: z.number().min(100).max(400).optional(),
    /** Lighting and other building loads in daytime (night: 40 %). */
    lighting_kw: z.number().min(0).max(100_000).optional(),
    /** Chilled-water supply set point; high-temperature CHW gives many free-cooling hours. */
    chw_supply_c: z.number().min(5).max(25).optional(),
    /** CRAH supply-air set point. */
    supply_air_c: z.number().min(14).max(30).optional(),
  })
  .strict();
export type SiteSimHints = z.infer<typeof SiteSimHintsSchema>;

export const RackSimHintsSchema = z
  .object({
    workload: WorkloadSchema.optional(),
    /** Mean IT load; default by workload as a share of the rack's rated_kw. */
    load_kw: z.number().min(0).max(500).optional(),
    /** GPU racks: servers and accelerators (default: the rack's GPU server devices, else rated_kw / 10.2 kW). */
    servers: z.number().int().min(0).max(64).optional(),
    gpus_per_server: z.number().int().min(1).max(16).optional(),
    gpu_model: z.string().min(1).optional(),
    /** Racks cooled by the same CRAHs; default: the rack's hall. */
    cooling_group: IdSchema.optional(),
  })
  .strict();
export type RackSimHints = z.infer<typeof RackSimHintsSchema>;

export const DeviceSimHintsSchema = z
  .object({
    /** IT meters outside a rack: a load of their own. In a rack: this device's share of the rack is load_kw / Σ. */
    load_kw: z.number().min(0).max(100_000).optional(),
    /** Share of what the device measures when several devices share it (incomers, cooling meters, A/B PDUs). */
    share: z.number().min(0).max(1).optional(),
    /** PDU outlets (rows of the outlet table). */
    outlets: z.number().int().min(0).max(96).optional(),
    /** Chiller, CRAH, UPS: capacity (cooling kW or rated output kW); default sized from the racks served. */
    capacity_kw: z.number().positive().max(100_000).optional(),
    /** CRAH: the rack group it cools; default its hall. */
    cooling_group: IdSchema.optional(),
    /** Chiller: the rack groups its chilled-water loop serves; default all. */
    serves: z.array(IdSchema).min(1).optional(),
    /** PV inverter: peak power of its array. */
    kwp: z.number().positive().max(100_000).optional(),
    /** GPU server. */
    gpus: z.number().int().min(1).max(16).optional(),
    gpu_model: z.string().min(1).optional(),
    cpu_model: z.string().min(1).optional(),
    /** Scripted faults; the schema is the fault layer's (simulators/faults/fault-spec.ts). */
    faults: DeviceFaultsSchema.optional(),
  })
  .strict();
export type DeviceSimHints = z.infer<typeof DeviceSimHintsSchema>;

export interface SiteHints {
  site: SiteSimHints;
  racks: RackSimHints[];
  devices: DeviceSimHints[];
}

const HintsDocumentSchema = z.object({
  sim: SiteSimHintsSchema.optional(),
  racks: z.array(z.object({ sim: RackSimHintsSchema.optional() })),
  devices: z.array(z.object({ sim: DeviceSimHintsSchema.optional() })),
});

/**
 * Validate every `sim:` block of a seed at once. The document is shaped like the seed, so an
 * error reads `seeds/guian.yaml: devices[3].sim.load_kw: …`. Throws DcimError
 * DCIM_E_CONFIG_INVALID listing all problems.
 */
export function parseSimHints(inventory: SiteInventory, file: string): SiteHints {
  const doc = parseWith(
    HintsDocumentSchema,
    { sim: inventory.sim, racks: inventory.racks.map((r) => ({ sim: r.sim })), devices: inventory.devices.map((d) => ({ sim: d.sim })) },
    file,
  );
  return { site: doc.sim ?? {}, racks: doc.racks.map((r) => r.sim ?? {}), devices: doc.devices.map((d) => d.sim ?? {}) };
}
