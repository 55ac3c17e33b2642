import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

/**
 * Generates the simulator seeds: the demo site, the Gui'an-like site and the cluster of sites
 * for the bureau view. The YAML files are committed beside this script, and a test checks they
 * equal its output, so change this file and run `npx tsx seeds/generate.ts`.
 *
 * Every address is loopback. Per site: one UDP port for all SNMP devices (the community, or
 * the SNMPv3 context, selects the device), Modbus TCP devices sharing ports by unit id, rack
 * inlet sensors behind RS-485 gateways (RTU over TCP, ≤ 247 units per gateway), one HTTP port
 * per GPU server BMC (Redfish paths are fixed). Sites use disjoint port ranges so the whole
 * cluster can run at once.
 */

type Obj = Record<string, unknown>;

export interface Doc {
  header: string;
  site: Obj;
  sim?: Obj;
  targets?: Obj;
  halls: Obj[];
  racks: Obj[];
  devices: Obj[];
  green_certificates?: Obj[];
}

const HOST = '127.0.0.1';
/** Lab credentials: a real site gives secrets as {env: NAME} or {file: path}. */
const V3 = { user: 'dcim-sim', auth_protocol: 'sha256', auth_key: 'sim-auth-key-123', priv_protocol: 'aes', priv_key: 'sim-priv-key-123' };

interface Ports {
  snmp: number;
  modbus: number;
  rtu: number;
  redfish: number;
}

/** Hands out addresses of one site. */
class Addresses {
  private modbusUnit = 0;
  private modbusPort: number;
  private rtuUnit = 0;
  private rtuPort: number;
  private redfishPort: number;

  constructor(private readonly ports: Ports) {
    this.modbusPort = ports.modbus;
    this.rtuPort = ports.rtu;
    this.redfishPort = ports.redfish;
  }

  snmp(community: string): Obj {
    return { protocol: 'snmp', host: HOST, port: this.ports.snmp, version: '2c', community };
  }

  snmpV3(context: string): Obj {
    return { protocol: 'snmp', host: HOST, port: this.ports.snmp, version: '3', ...V3, context };
  }

  modbus(): Obj {
    if (this.modbusUnit === 247) {
      this.modbusUnit = 0;
      this.modbusPort++;
    }
    return { protocol: 'modbus', host: HOST, port: this.modbusPort, unit_id: ++this.modbusUnit };
  }

  /** A new RS-485 bus behind its own gateway port. */
  nextRtuBus(): void {
    if (this.rtuUnit > 0) {
      this.rtuPort++;
      this.rtuUnit = 0;
    }
  }

  rtu(): Obj {
    if (this.rtuUnit === 247) this.nextRtuBus();
    return { protocol: 'modbus', host: HOST, port: this.rtuPort, unit_id: ++this.rtuUnit, transport: 'rtu_over_tcp' };
  }

  redfish(): Obj {
    return { protocol: 'redfish', host: HOST, port: this.redfishPort++, scheme: 'http', username: 'admin', password: 'sim' };
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/* ------------------------------------------------------------------ demo */

/**
 * The demo: one hall, sixteen racks, every device kind at least once (≈50 devices). Category 2
 * (IT at the PDU outputs); UPS outputs and GPU servers are metered too, so the level is pinned.
 */
function demo(): Doc {
  const a = new Addresses({ snmp: 16161, modbus: 15020, rtu: 15030, redfish: 18001 });
  const racks: Obj[] = [];
  const devices: Obj[] = [];
  const rack = (n: number, rated_kw: number, sim?: Obj, status?: string) => racks.push({ id: `r${pad(n)}`, hall: 'h1', rated_kw, ...(status ? { status } : {}), ...(sim ? { sim } : {}) });
  // Rows: r01–r10 general compute, r11–r12 GPU training, r13 storage, r14 idle, r15 empty, r16 reserved.
  const loads = [8, 6.5, 5, 5.5, 7, 4.5, 6, 5, 6.5, 4];
  for (let n = 1; n <= 10; n++) rack(n, 12, { workload: 'general', load_kw: loads[n - 1], cooling_group: 'pod-a' });
  rack(11, 40, { workload: 'gpu_training', servers: 4, gpus_per_server: 8, gpu_model: 'NVIDIA H100 80GB HBM3', cooling_group: 'pod-b' });
  rack(12, 40, { workload: 'gpu_training', servers: 4, gpus_per_server: 8, gpu_model: 'Huawei Ascend 910B', cooling_group: 'pod-b' });
  rack(13, 10, { workload: 'storage', load_kw: 5, cooling_group: 'pod-b' });
  rack(14, 10, { workload: 'idle', cooling_group: 'pod-b' });
  rack(15, 10, { workload: 'empty', cooling_group: 'pod-b' });
  rack(16, 12, { cooling_group: 'pod-b' }, 'reserved');

  const pdu = (r: number, side: 'a' | 'b', profile: string, rated: number) => {
    const id = `pdu-r${pad(r)}-${side}`;
    devices.push({ id, profile, rack: `r${pad(r)}`, address: a.snmp(id === 'pdu-r01-a' ? 'public' : id), interval_s: 5, meter: { role: 'it', level: 'pdu_out', rated_kw: rated } });
  };
  pdu(1, 'a', 'apc-rpdu2', 12);
  pdu(1, 'b', 'apc-rpdu2', 12);
  for (let r = 2; r <= 10; r++) pdu(r, 'a', r % 2 === 0 ? 'raritan-px2' : 'apc-rpdu2', 12);
  for (const r of [11, 12]) for (const side of ['a', 'b'] as const) pdu(r, side, 'raritan-px2', 40);
  pdu(13, 'a', 'apc-rpdu2', 10);
  pdu(14, 'a', 'apc-rpdu2', 10);

  for (const r of [11, 12]) {
    for (let s = 1; s <= 4; s++) devices.push({ id: `gpu-r${r}-${s}`, profile: 'redfish-gpu-server', rack: `r${r}`, address: a.redfish(), interval_s: 10, meter: { role: 'it', level: 'it_in', rated_kw: 10.2 } });
  }
  for (let r = 1; r <= 14; r++) devices.push({ id: `th-r${pad(r)}`, profile: 'xy-md02-th', rack: `r${pad(r)}`, address: a.rtu(), interval_s: 10 });

  devices.push({ id: 'ups-1a', profile: 'rfc1628-ups', hall: 'h1', address: a.snmp('ups-1a'), interval_s: 10, meter: { role: 'it', level: 'ups_out' }, sim: { capacity_kw: 120 } });
  devices.push({ id: 'ups-1b', profile: 'rfc1628-ups', hall: 'h1', address: a.snmp('ups-1b'), interval_s: 10, meter: { role: 'it', level: 'ups_out' }, sim: { capacity_kw: 120 } });
  devices.push({ id: 'meter-incomer-1', profile: 'eastron-sdm630', hall: 'h1', address: a.modbus(), interval_s: 5, meter: { role: 'facility_in', rated_kw: 250 } });
  devices.push({ id: 'meter-incomer-2', profile: 'schneider-pm5000', hall: 'h1', address: a.modbus(), interval_s: 5, meter: { role: 'facility_in', rated_kw: 250 } });
  devices.push({ id: 'meter-green-feed', profile: 'wattnode-wnd', hall: 'h1', address: a.modbus(), interval_s: 5, meter: { role: 'green_feed', rated_kw: 250 } });
  devices.push({ id: 'meter-cooling', profile: 'carlo-gavazzi-em24-e1', hall: 'h1', address: a.modbus(), interval_s: 5, meter: { role: 'cooling', rated_kw: 120 } });
  devices.push({ id: 'meter-lighting', profile: 'eastron-sdm630', hall: 'h1', address: a.modbus(), interval_s: 10, meter: { role: 'other', rated_kw: 20 } });
  devices.push({ id: 'pv-roof-1', profile: 'sunspec-inverter', hall: 'h1', address: a.modbus(), interval_s: 10, meter: { role: 'green_onsite', behind_meter: true, rated_kw: 30 }, sim: { kwp: 30 } });
  devices.push({ id: 'chiller-1', profile: 'chiller-bms', hall: 'h1', address: a.modbus(), interval_s: 10, sim: { serves: ['pod-a'] } });
  devices.push({ id: 'chiller-2', profile: 'chiller-bms', hall: 'h1', address: a.modbus(), interval_s: 10, sim: { serves: ['pod-b'] } });
  for (const pod of ['a', 'b']) for (let k = 1; k <= 2; k++) devices.push({ id: `crah-${pod}${k}`, profile: 'crah-bms', hall: 'h1', address: a.modbus(), interval_s: 10, sim: { cooling_group: `pod-${pod}` } });

  return {
    header: [
      "A small demo site in the Gui'an cluster: one hall, sixteen racks (general compute, two GPU training",
      'racks, storage, idle, empty, reserved) and every simulated device kind: APC and Raritan PDUs, UPSes,',
      'five meter families (incomers, a green feed, cooling, lighting), PV behind the meter, chillers, CRAHs,',
      'GPU servers over Redfish and rack inlet sensors behind an RS-485 gateway. Ports are where `dcim sim`',
      'serves the devices; `dcim demo` binds free loopback ports instead.',
    ].join('\n'),
    site: { id: 'demo', name: "Demo hall, Gui'an", timezone: 'Asia/Shanghai', cluster: 'guian', pue_it_level: 'pdu_out', agent: 'edge-1' },
    sim: { latitude_deg: 26.4, longitude_deg: 106.6, green_feed_share: 0.3, lighting_kw: 2, chw_supply_c: 18 },
    targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 },
    halls: [{ id: 'h1', name: 'Hall 1' }],
    racks,
    devices,
    green_certificates: [{ id: 'gec-demo-2026q1', period: '2026-01', certificates: 20 }],
  };
}

/* --------------------------------------------------- generated large sites */

export interface HallSpec {
  id: string;
  name: string;
  /** Pods (cooling groups): racks per pod, CRAHs per pod; one chiller per `podsPerChiller` pods. */
  pods: number;
  racksPerPod: number;
  /** Rack mix per pod, in row order; the remainder of a pod is general compute. */
  mix: { gpu: number; storage: number; idle: number; empty: number; reserved: number; planned: number };
  gpuModel: string;
  pduProfile: 'apc-rpdu2' | 'raritan-px2';
  /** General and storage racks get A/B PDUs (GPU racks always do). */
  dualPdus: boolean;
}

export interface SiteSpec {
  id: string;
  name: string;
  ports: Ports;
  halls: HallSpec[];
  crahsPerPod: number;
  podsPerChiller: number;
  upsPerHall: number;
  /** IT level the PUE uses: pdu_out (category 2) or ups_out (1). */
  pueLevel: 'ups_out' | 'pdu_out';
  pvInverters: number;
  pvKwpEach: number;
  greenFeed: boolean;
  greenFeedShare: number;
  certificatesPerMonth: number;
  incomers: number;
  /** Every n-th equipped rack gets an inlet sensor (1 = all). */
  sensorEvery: number;
  seed: number;
  header: string;
}

/** A small deterministic generator for the seed's variety (loads per rack). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A generated site as a plain inventory object (parse it with SiteInventorySchema). */
export function bigSite(spec: SiteSpec): Doc {
  const a = new Addresses(spec.ports);
  const rnd = lcg(spec.seed);
  const racks: Obj[] = [];
  const devices: Obj[] = [];
  const snmpDevices: Obj[] = [];
  const redfish: Obj[] = [];
  const sensors: Obj[][] = [];
  const modbus: Obj[] = [];
  let equipped = 0;

  for (const hall of spec.halls) {
    const hallSensors: Obj[] = [];
    const hallPods: string[] = [];
    for (let p = 1; p <= hall.pods; p++) {
      const pod = `${hall.id}-pod${p}`;
      hallPods.push(pod);
      const { gpu, storage, idle, empty, reserved, planned } = hall.mix;
      for (let k = 1; k <= hall.racksPerPod; k++) {
        const id = `${hall.id}-p${p}-r${pad(k)}`;
        const kind = k <= gpu ? 'gpu' : k <= gpu + storage ? 'storage' : k > hall.racksPerPod - planned ? 'planned' : k > hall.racksPerPod - planned - reserved ? 'reserved' : k > hall.racksPerPod - planned - reserved - empty ? 'empty' : k > hall.racksPerPod - planned - reserved - empty - idle ? 'idle' : 'general';
        const rated = kind === 'gpu' ? 40 : kind === 'storage' ? 10 : 12;
        const sim: Obj = { cooling_group: pod };
        if (kind === 'gpu') Object.assign(sim, { workload: 'gpu_training', servers: 4, gpus_per_server: 8, gpu_model: hall.gpuModel });
        else if (kind === 'storage') Object.assign(sim, { workload: 'storage', load_kw: Math.round((4 + 2 * rnd()) * 10) / 10 });
        else if (kind === 'general') Object.assign(sim, { workload: 'general', load_kw: Math.round((3.5 + 4 * rnd()) * 10) / 10 });
        else if (kind === 'idle') Object.assign(sim, { workload: 'idle' });
        else Object.assign(sim, { workload: 'empty' });
        const status = kind === 'reserved' || kind === 'planned' ? kind : undefined;
        racks.push({ id, hall: hall.id, rated_kw: rated, ...(status ? { status } : {}), sim });
        if (kind === 'empty' || kind === 'reserved' || kind === 'planned') continue;

        const sides = kind === 'gpu' || (hall.dualPdus && kind !== 'idle') ? ['a', 'b'] : ['a'];
        for (const side of sides) {
          const pid = `pdu-${id}-${side}`;
          snmpDevices.push({ id: pid, profile: hall.pduProfile, rack: id, address: a.snmp(pid), interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: rated } });
        }
        if (kind === 'gpu') {
          for (let s = 1; s <= 4; s++) redfish.push({ id: `gpu-${id}-${s}`, profile: 'redfish-gpu-server', rack: id, address: a.redfish(), interval_s: 15, meter: { role: 'it', level: 'it_in', rated_kw: 10.2 } });
        }
        if (equipped++ % spec.sensorEvery === 0) hallSensors.push({ id: `th-${id}`, profile: 'xy-md02-th', rack: id, interval_s: 30 });
      }
    }
    sensors.push(hallSensors);

    for (let u = 1; u <= spec.upsPerHall; u++) {
      const id = `ups-${hall.id}-${u}`;
      snmpDevices.push({ id, profile: 'rfc1628-ups', hall: hall.id, address: a.snmpV3(id), interval_s: 15, meter: { role: 'it', level: 'ups_out' } });
    }
    for (let c = 0; c < hall.pods / spec.podsPerChiller; c++) {
      const serves = hallPods.slice(c * spec.podsPerChiller, (c + 1) * spec.podsPerChiller);
      modbus.push({ id: `chiller-${hall.id}-${c + 1}`, profile: 'chiller-bms', hall: hall.id, interval_s: 15, sim: { serves } });
    }
    for (const pod of hallPods) {
      for (let k = 1; k <= spec.crahsPerPod; k++) modbus.push({ id: `crah-${pod}-${k}`, profile: 'crah-bms', hall: hall.id, interval_s: 15, sim: { cooling_group: pod } });
    }
    modbus.push({ id: `meter-cooling-${hall.id}`, profile: 'carlo-gavazzi-em24-e1', hall: hall.id, interval_s: 10, meter: { role: 'cooling' } });
    modbus.push({ id: `meter-lighting-${hall.id}`, profile: 'eastron-sdm630', hall: hall.id, interval_s: 30, meter: { role: 'other' } });
  }
  const firstHall = spec.halls[0]!.id;
  for (let k = 1; k <= spec.incomers; k++) modbus.push({ id: `meter-incomer-${k}`, profile: 'schneider-pm5000', hall: firstHall, interval_s: 10, meter: { role: 'facility_in' } });
  if (spec.greenFeed) modbus.push({ id: 'meter-green-feed', profile: 'wattnode-wnd', hall: firstHall, interval_s: 10, meter: { role: 'green_feed' } });
  for (let k = 1; k <= spec.pvInverters; k++) modbus.push({ id: `pv-${k}`, profile: 'sunspec-inverter', hall: firstHall, interval_s: 15, meter: { role: 'green_onsite', behind_meter: true }, sim: { kwp: spec.pvKwpEach } });

  devices.push(...snmpDevices);
  for (const m of modbus) devices.push(withAddress(m, a.modbus()));
  for (const hallSensors of sensors) {
    a.nextRtuBus();
    for (const s of hallSensors) devices.push(withAddress(s, a.rtu()));
  }
  devices.push(...redfish);

  const certificates: Obj[] = [];
  if (spec.certificatesPerMonth > 0) {
    for (let m = 1; m <= 12; m++) certificates.push({ id: `gec-${spec.id}-2026-${pad(m)}`, period: `2026-${pad(m)}`, certificates: spec.certificatesPerMonth });
  }
  return {
    header: spec.header,
    site: { id: spec.id, name: spec.name, timezone: 'Asia/Shanghai', cluster: 'guian', pue_it_level: spec.pueLevel, agent: 'edge-1' },
    sim: { latitude_deg: 26.4, longitude_deg: 106.6, ...(spec.greenFeed ? { green_feed_share: spec.greenFeedShare } : {}) },
    targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 },
    halls: spec.halls.map((h) => ({ id: h.id, name: h.name })),
    racks,
    devices,
    ...(certificates.length > 0 ? { green_certificates: certificates } : {}),
  };
}

/** Puts the address right after the profile, where a reader looks for it. */
function withAddress(d: Obj, address: Obj): Obj {
  const { id, profile, rack, hall, ...rest } = d;
  return { id, profile, ...(rack !== undefined ? { rack } : {}), ...(hall !== undefined ? { hall } : {}), address, ...rest };
}

const MIX_NONE = { gpu: 0, storage: 0, idle: 0, empty: 0, reserved: 0, planned: 0 };

export const GUIAN: SiteSpec = {
  id: 'guian',
  name: "Gui'an data center (simulated)",
  ports: { snmp: 16200, modbus: 15100, rtu: 15110, redfish: 18100 },
  halls: [
    { id: 'h1', name: 'Hall 1 — general compute and storage', pods: 4, racksPerPod: 50, mix: { gpu: 0, storage: 8, idle: 3, empty: 3, reserved: 3, planned: 3 }, gpuModel: 'NVIDIA H100 80GB HBM3', pduProfile: 'apc-rpdu2', dualPdus: false },
    { id: 'h2', name: 'Hall 2 — AI training', pods: 4, racksPerPod: 50, mix: { gpu: 10, storage: 4, idle: 2, empty: 3, reserved: 2, planned: 5 }, gpuModel: 'NVIDIA H100 80GB HBM3', pduProfile: 'raritan-px2', dualPdus: true },
  ],
  crahsPerPod: 3,
  podsPerChiller: 2,
  upsPerHall: 4,
  pueLevel: 'pdu_out',
  pvInverters: 6,
  pvKwpEach: 50,
  greenFeed: true,
  greenFeedShare: 0.3,
  certificatesPerMonth: 400,
  incomers: 3,
  sensorEvery: 1,
  seed: 2026,
  header: [
    "A Gui'an-like site: two halls of four pods (cooling groups) of fifty racks, ≈1,000 devices. Hall 1 runs",
    'general compute and storage, hall 2 AI training on H100 racks and A/B-fed general racks; idle, empty, reserved and planned racks',
    'in every pod. PUE category 2 (IT at the PDU outputs, pinned: UPS outputs and GPU servers are metered',
    'too). Utility incomers, a green feed, PV behind the meter, green certificates, two chillers per hall',
    'each serving two pods, three CRAHs per pod, an inlet sensor in every equipped rack, UPSes over SNMPv3.',
  ].join('\n'),
};

const CLUSTER: SiteSpec[] = [
  {
    ...GUIAN,
    id: 'guian-north',
    name: "Gui'an North (simulated)",
    ports: { snmp: 16300, modbus: 15300, rtu: 15310, redfish: 18400 },
    halls: [{ id: 'h1', name: 'Hall 1', pods: 2, racksPerPod: 30, mix: { gpu: 2, storage: 4, idle: 2, empty: 2, reserved: 2, planned: 2 }, gpuModel: 'NVIDIA A100-SXM4-80GB', pduProfile: 'apc-rpdu2', dualPdus: false }],
    crahsPerPod: 2,
    podsPerChiller: 1,
    upsPerHall: 2,
    pvInverters: 4,
    pvKwpEach: 100,
    greenFeedShare: 0.5,
    certificatesPerMonth: 150,
    incomers: 2,
    sensorEvery: 2,
    seed: 11,
    header: "Gui'an cluster, north site: one hall of general compute with a little A100 training, a large PV roof and half of its grid power bought green. PUE category 2.",
  },
  {
    ...GUIAN,
    id: 'guian-ai',
    name: "Gui'an AI computing center (simulated)",
    ports: { snmp: 16400, modbus: 15400, rtu: 15410, redfish: 18500 },
    halls: [{ id: 'h1', name: 'Training hall', pods: 2, racksPerPod: 24, mix: { gpu: 16, storage: 2, idle: 0, empty: 2, reserved: 0, planned: 4 }, gpuModel: 'Huawei Ascend 910B', pduProfile: 'raritan-px2', dualPdus: false }],
    crahsPerPod: 3,
    podsPerChiller: 1,
    upsPerHall: 4,
    pvInverters: 0,
    greenFeed: true,
    greenFeedShare: 0.6,
    certificatesPerMonth: 0,
    incomers: 2,
    sensorEvery: 1,
    seed: 12,
    header: "Gui'an cluster, AI computing center (智算中心): Ascend 910B training racks, a green feed, no PV. PUE category 2.",
  },
  {
    ...GUIAN,
    id: 'guian-south',
    name: "Gui'an South (simulated)",
    ports: { snmp: 16500, modbus: 15500, rtu: 15510, redfish: 18600 },
    halls: [
      { id: 'h1', name: 'Hall 1', pods: 1, racksPerPod: 40, mix: { ...MIX_NONE, storage: 6, idle: 4, empty: 4, reserved: 2 }, gpuModel: 'NVIDIA A100-SXM4-80GB', pduProfile: 'apc-rpdu2', dualPdus: true },
      { id: 'h2', name: 'Hall 2', pods: 1, racksPerPod: 40, mix: { ...MIX_NONE, storage: 4, idle: 6, empty: 6, planned: 6 }, gpuModel: 'NVIDIA A100-SXM4-80GB', pduProfile: 'apc-rpdu2', dualPdus: true },
    ],
    crahsPerPod: 2,
    podsPerChiller: 1,
    upsPerHall: 2,
    pueLevel: 'ups_out',
    pvInverters: 0,
    greenFeed: false,
    certificatesPerMonth: 60,
    incomers: 2,
    sensorEvery: 4,
    seed: 13,
    header: "Gui'an cluster, south site: an older enterprise site with A/B PDUs, its PUE at the UPS outputs (category 1), no on-site generation.",
  },
];

/* ------------------------------------------------------------------ YAML */

function render(doc: Doc): string {
  const flow = (v: unknown) => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
  const block = (key: string, v: Obj) => `${key}:\n${Object.entries(v).map(([k, x]) => `  ${k}: ${flow(x)}`).join('\n')}\n`;
  const list = (key: string, items: Obj[]) => `${key}:\n${items.map((x) => `  - ${flow(x)}`).join('\n')}\n`;
  const header = [...doc.header.split('\n'), 'Generated by seeds/generate.ts: edit the generator and run `npx tsx seeds/generate.ts`.'].map((l) => `# ${l}`.trimEnd()).join('\n');
  return [
    `${header}\n`,
    block('site', doc.site),
    doc.sim ? block('sim', doc.sim) : '',
    doc.targets ? block('targets', doc.targets) : '',
    list('halls', doc.halls),
    list('racks', doc.racks),
    list('devices', doc.devices),
    doc.green_certificates ? list('green_certificates', doc.green_certificates) : '',
  ]
    .filter((s) => s !== '')
    .join('');
}

export interface SeedFile {
  /** Relative to seeds/. */
  path: string;
  text: string;
}

export function renderSeeds(): SeedFile[] {
  return [
    { path: 'demo.yaml', text: render(demo()) },
    { path: 'guian.yaml', text: render(bigSite(GUIAN)) },
    ...CLUSTER.map((s) => ({ path: `cluster/${s.id}.yaml`, text: render(bigSite(s)) })),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const f of renderSeeds()) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
    console.log(`wrote seeds/${f.path}`);
  }
}
