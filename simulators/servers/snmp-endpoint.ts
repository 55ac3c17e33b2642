import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { Logger } from '../../contract/index.js';
import type { SnmpServedValue, SnmpWireType } from '../encode/snmp-values.js';

/**
 * One SNMP v1/v2c agent on one UDP host:port, serving several devices told apart by
 * community, as a terminal server or a PDU daisy chain behind one address would be.
 *
 * net-snmp's Agent owns a single MIB. Its request path (getRequest / getNextRequest /
 * getBulkRequest / setRequest → request → sendResponse) reads `this.mib` synchronously when
 * no provider handler is asynchronous, which holds here, so selecting the device's MIB by the
 * message's community right before each request is safe (checked against net-snmp 3.29.2,
 * pinned in package.json). Unknown communities never get that far: the agent's authorizer
 * drops them silently, as a real device does.
 *
 * Profile OIDs carry their instance (`…26.4.3.1.5.1`, not only `.0`), so every served OID
 * becomes an instance node under a read-only scalar provider at its parent OID; that serves
 * any index shape, multi-arc included, and keeps GETNEXT/GETBULK walks in OID order.
 */

export interface SnmpSnapshot {
  /** Changes whenever any value may have changed. */
  version: number;
  values: readonly SnmpServedValue[];
}

export interface SnmpDeviceBinding {
  device: string;
  community: string;
  /** Object OIDs (instance parents) this device implements, served or not. */
  objects: readonly string[];
  /** The values to serve now; called once per request, so it must be cheap when unchanged. */
  snapshot(): SnmpSnapshot;
}

export interface SnmpEndpointOptions {
  host: string;
  /** 0 binds an ephemeral port. */
  port: number;
  devices: readonly SnmpDeviceBinding[];
  logger: Logger;
}

export interface SnmpEndpointStats {
  requests: number;
  /** Messages the agent refused: unknown community, unparsable packet, unsupported PDU. */
  rejected: number;
  /** Requests that failed inside the simulator (answered by no response). */
  errors: number;
}

// Just the parts of net-snmp (untyped CommonJS) this adapter uses.
interface MibNode {
  value: unknown;
  valueType: number;
  children: Record<string, MibNode>;
}
interface NetSnmpMib {
  registerProvider(provider: object): void;
  addProviderToNode(provider: object): MibNode;
  addNodesForOid(oid: string): MibNode;
}
interface SnmpMessage {
  community?: unknown;
}
type RequestMethod = (socket: unknown, message: SnmpMessage, rinfo: unknown) => void;
interface NetSnmpAgent {
  getAuthorizer(): { addCommunity(community: string): void };
  setMib(mib: NetSnmpMib): void;
  close(callback?: () => void): void;
  getRequest: RequestMethod;
  getNextRequest: RequestMethod;
  getBulkRequest: RequestMethod;
  setRequest: RequestMethod;
}
interface NetSnmp {
  createAgent(
    options: { port: number | string; address: string; transport: string; dgramModule: { createSocket(type: dgram.SocketType): dgram.Socket } },
    callback: (error: Error | null) => void,
    mib: NetSnmpMib,
  ): NetSnmpAgent;
  createMib(): NetSnmpMib;
  MibProviderType: { Scalar: number };
  MaxAccess: Record<string, number>;
  ObjectType: Record<string, number>;
}

const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmp;

const WIRE_TYPE: Record<SnmpWireType, string> = {
  integer: 'Integer',
  counter32: 'Counter32',
  gauge32: 'Gauge32',
  counter64: 'Counter64',
  octet_string: 'OctetString',
  timeticks: 'TimeTicks',
  object_identifier: 'OID',
};

interface DeviceMib {
  binding: SnmpDeviceBinding;
  mib: NetSnmpMib;
  nodes: Map<string, MibNode>;
  version: number;
}

export class SnmpEndpoint {
  private agent: NetSnmpAgent | undefined;
  private socket: dgram.Socket | undefined;
  private readonly byCommunity = new Map<string, DeviceMib>();
  private readonly counters: SnmpEndpointStats = { requests: 0, rejected: 0, errors: 0 };

  constructor(private readonly opts: SnmpEndpointOptions) {}

  /** Bind and serve; resolves with the bound UDP port. */
  async start(): Promise<number> {
    for (const binding of this.opts.devices) {
      if (this.byCommunity.has(binding.community)) {
        throw new Error(`${this.opts.host}:${this.opts.port}: devices ${this.byCommunity.get(binding.community)?.binding.device} and ${binding.device} share a community`);
      }
      this.byCommunity.set(binding.community, buildDeviceMib(binding));
    }
    const first = this.byCommunity.values().next().value;
    if (!first) throw new Error(`${this.opts.host}:${this.opts.port}: an SNMP endpoint needs at least one device`);

    const agent = snmp.createAgent(
      {
        // net-snmp replaces a numeric 0 by 161; the string form reaches bind() as "any free port".
        port: this.opts.port === 0 ? '0' : this.opts.port,
        address: this.opts.host,
        transport: 'udp4',
        dgramModule: { createSocket: (type) => (this.socket = dgram.createSocket(type)) },
      },
      (error) => {
        if (!error) return;
        this.counters.rejected++;
        this.opts.logger.debug('snmp request rejected', { port: this.boundPort(), reason: error.message });
      },
      first.mib,
    );
    this.agent = agent;
    for (const binding of this.byCommunity.keys()) agent.getAuthorizer().addCommunity(binding);
    for (const method of ['getRequest', 'getNextRequest', 'getBulkRequest', 'setRequest'] as const) {
      const original = agent[method].bind(agent);
      agent[method] = (socket, message, rinfo) => this.serve(original, socket, message, rinfo);
    }
    const socket = this.socket;
    if (!socket) throw new Error('net-snmp did not create its socket through dgramModule');
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(new Error(`SNMP agent cannot listen on ${this.opts.host}:${this.opts.port}/udp: ${e.message}`));
      socket.once('error', onError);
      socket.once('listening', () => {
        socket.off('error', onError);
        resolve();
      });
    }).catch(async (e: unknown) => {
      await this.stop();
      throw e;
    });
    return this.boundPort();
  }

  async stop(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    if (!agent) return;
    await new Promise<void>((resolve) => {
      try {
        agent.close(() => resolve());
      } catch {
        // The socket never bound; nothing left to close.
        resolve();
      }
    });
  }

  stats(): SnmpEndpointStats {
    return { ...this.counters };
  }

  private boundPort(): number {
    try {
      return this.socket?.address().port ?? this.opts.port;
    } catch {
      return this.opts.port;
    }
  }

  private serve(original: RequestMethod, socket: unknown, message: SnmpMessage, rinfo: unknown): void {
    this.counters.requests++;
    const device = this.byCommunity.get(String(message.community));
    if (!device || !this.agent) {
      this.counters.rejected++;
      return;
    }
    try {
      refresh(device);
      this.agent.setMib(device.mib);
      original(socket, message, rinfo);
    } catch (e) {
      // A bad request must never take the simulator down; the manager times out and retries.
      this.counters.errors++;
      this.opts.logger.warn('snmp request failed', { device: device.binding.device, error: e as Error });
    }
  }
}

function buildDeviceMib(binding: SnmpDeviceBinding): DeviceMib {
  const mib = snmp.createMib();
  const snap = binding.snapshot();
  const oids = snap.values.map((v) => v.oid);
  const sorted = [...oids].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a === b || b.startsWith(`${a}.`)) throw new Error(`device ${binding.device}: OID ${a} is served twice or contains ${b}`);
  }
  // Registered providers answer noSuchInstance below them; only those with an instance join
  // the tree, since an empty provider leaf would surface as a bogus row in a walk.
  const providers = new Map<string, object>();
  const register = (parent: string) => {
    const known = providers.get(parent);
    if (known) return known;
    // The scalar type only matters to net-snmp for SETs, which read-only access refuses.
    const provider = { name: `${binding.device}@${parent}`, type: snmp.MibProviderType.Scalar, oid: parent, scalarType: objectType('integer'), maxAccess: snmp.MaxAccess['read-only'] };
    mib.registerProvider(provider);
    providers.set(parent, provider);
    return provider;
  };
  for (const o of binding.objects) register(o);
  const inTree = new Set<string>();
  const nodes = new Map<string, MibNode>();
  for (const v of snap.values) {
    const parent = v.oid.slice(0, v.oid.lastIndexOf('.'));
    const provider = register(parent);
    if (!inTree.has(parent)) {
      mib.addProviderToNode(provider);
      inTree.add(parent);
    }
    nodes.set(v.oid, mib.addNodesForOid(v.oid));
  }
  const device: DeviceMib = { binding, mib, nodes, version: Number.NaN };
  apply(device, snap);
  return device;
}

function refresh(device: DeviceMib): void {
  const snap = device.binding.snapshot();
  if (snap.version !== device.version) apply(device, snap);
}

function apply(device: DeviceMib, snap: SnmpSnapshot): void {
  const seen = new Set<string>();
  for (const v of snap.values) {
    const node = device.nodes.get(v.oid);
    if (!node) continue;
    node.valueType = objectType(v.type);
    node.value = wireValue(v);
    seen.add(v.oid);
  }
  // A quantity that vanished reads as noSuchInstance rather than a stale number.
  for (const [oid, node] of device.nodes) if (!seen.has(oid)) node.value = undefined;
  device.version = snap.version;
}

function objectType(t: SnmpWireType): number {
  const n = snmp.ObjectType[WIRE_TYPE[t]];
  if (n === undefined) throw new Error(`net-snmp has no object type ${WIRE_TYPE[t]}`);
  return n;
}

function wireValue(v: SnmpServedValue): unknown {
  if (v.type !== 'counter64') return v.value;
  // net-snmp writes Counter64 from an 8-byte big-endian buffer.
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v.value));
  return b;
}
