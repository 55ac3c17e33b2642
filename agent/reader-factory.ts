import { DcimError, type Clock, type DeviceProfile, type ErrorCode, type SnmpAddress } from '../contract/index.js';
import { resolveSecret } from '../shared/config/secrets.js';
import type { Logger } from '../shared/log.js';
import { badReading } from './decode/decoded.js';
import { DEFAULT_MODBUS_POLICY, DEFAULT_PROMETHEUS_POLICY, DEFAULT_REDFISH_POLICY, DEFAULT_SNMP_POLICY, type DeviceReader, type RequestPolicy } from './device-reader.js';
import type { AgentDevice } from './devices.js';
import { createModbusSerialTransport } from './modbus/modbus-serial-transport.js';
import type { ModbusTransport } from './modbus/modbus-transport.js';
import { ModbusReader } from './modbus/modbus-reader.js';
import { LazyChildLogger } from './lazy-child-logger.js';
import { withPlausibility } from './plausibility/plausible-reader.js';
import { allPoints } from './profile-checks.js';
import { createHttpScrapeTransport } from './prometheus/http-scrape.js';
import { PrometheusReader } from './prometheus/prometheus-reader.js';
import { createHttpRedfishTransport } from './redfish/http-redfish-transport.js';
import { RedfishReader } from './redfish/redfish-reader.js';
import { createLeanSnmpTransport } from './snmp/lean-snmp-transport.js';
import { createNetSnmpTransport, type ResolvedSnmpAddress } from './snmp/net-snmp-transport.js';
import { SnmpReader } from './snmp/snmp-reader.js';
import type { SnmpSocketPool } from './snmp/snmp-socket-pool.js';
import type { SnmpTransport } from './snmp/snmp-transport.js';

/**
 * One device's reader from its seed entry and profile: the one way the agent and `dcim poll`
 * build readers. The device's own `timeout_ms` and `retries` (seed) win over the agent-wide
 * policy of its protocol. A device that cannot be polled at all (a secret missing) still gets a
 * reader, one that reports every point bad with the reason, so it shows up as down instead of
 * disappearing.
 */
export interface ReaderContext {
  clock: Clock;
  logger: Logger;
  /** Where `{env: …}` secrets are looked up. */
  env?: NodeJS.ProcessEnv;
  /** Agent-wide request policies per protocol (default DEFAULT_*_POLICY). */
  snmp?: RequestPolicy;
  modbus?: RequestPolicy;
  redfish?: RequestPolicy;
  prometheus?: RequestPolicy;
  /**
   * Open Modbus connections by endpoint: devices behind one gateway share one connection, one
   * request at a time. Pass the same map for every device of an agent.
   */
  modbusLinks?: Map<string, ModbusTransport>;
  /** Shared SNMP sockets (snmp-socket-pool.ts); without it each SNMP device opens a socket of its own. */
  snmpPool?: SnmpSocketPool;
}

/** The request policy of one device: its own seed values over the protocol's. */
export function devicePolicy(device: AgentDevice['device'], base: RequestPolicy): RequestPolicy {
  return { timeoutMs: device.timeout_ms ?? base.timeoutMs, retries: device.retries ?? base.retries };
}

export function createDeviceReader(d: AgentDevice, ctx: ReaderContext): DeviceReader {
  // One lazy logger per device, shared by its protocol reader and its plausibility check.
  const log = new LazyChildLogger(ctx.logger, { device: d.device.id });
  const reader = createProtocolReader(d, ctx, log);
  // Every value is judged before it is published (agent/plausibility): nothing impossible goes out as good.
  return withPlausibility(reader, d.profile, log);
}

function createProtocolReader(d: AgentDevice, ctx: ReaderContext, log: Logger): DeviceReader {
  const { device, profile } = d;
  const a = device.address;
  if (a.protocol === 'snmp' && profile.protocol === 'snmp') {
    const policy = devicePolicy(device, ctx.snmp ?? DEFAULT_SNMP_POLICY);
    const secrets = secretsOrRefusal(() => resolveSnmpSecrets(a, device.id, ctx.env), profile, log);
    if (!secrets.ok) return secrets.reader;
    const resolved: ResolvedSnmpAddress = secrets.value;
    let transport: SnmpTransport;
    try {
      // v1/v2c GETs over the shared socket take the lean codec (lean-snmp-transport.ts); v3 and a poller without a pool, net-snmp.
      transport =
        ctx.snmpPool && resolved.version !== '3'
          ? createLeanSnmpTransport(resolved, { timeoutMs: policy.timeoutMs, logger: log, pool: ctx.snmpPool })
          : createNetSnmpTransport(resolved, { timeoutMs: policy.timeoutMs, logger: log, ...(ctx.snmpPool ? { pool: ctx.snmpPool } : {}) });
    } catch (e) {
      // An SNMPv3 level its settings cannot reach: refused, never polled at a lower one.
      log.error('device not polled: SNMPv3 settings refused', { error: e as Error });
      return failingReader(profile, 'DCIM_E_SNMP_V3_LEVEL');
    }
    return new SnmpReader({ profile, transport, policy, clock: ctx.clock, logger: log });
  }
  if (a.protocol === 'modbus' && profile.protocol === 'modbus') {
    const policy = devicePolicy(device, ctx.modbus ?? DEFAULT_MODBUS_POLICY);
    const key = `${a.transport}|${a.host}|${a.port}`;
    let link = ctx.modbusLinks?.get(key);
    if (!link) {
      link = createModbusSerialTransport({ host: a.host, port: a.port, framing: a.transport, timeoutMs: policy.timeoutMs, logger: ctx.logger.child({ modbus: `${a.host}:${a.port}` }) });
      ctx.modbusLinks?.set(key, link);
    }
    return new ModbusReader({ profile, transport: link, unitId: a.unit_id, policy, clock: ctx.clock, logger: log });
  }
  if (a.protocol === 'redfish' && profile.protocol === 'redfish') {
    const policy = devicePolicy(device, ctx.redfish ?? DEFAULT_REDFISH_POLICY);
    const secrets = secretsOrRefusal(() => (a.password !== undefined ? resolveSecret(a.password, `device ${device.id}: address.password`, ctx.env) : undefined), profile, log);
    if (!secrets.ok) return secrets.reader;
    const password = secrets.value;
    const transport = createHttpRedfishTransport({
      scheme: a.scheme,
      host: a.host,
      port: a.port,
      username: a.username,
      password,
      verifyTls: a.verify_tls,
      maxSockets: profile.quirks.max_concurrent_requests,
      logger: log,
    });
    return new RedfishReader({ profile, transport, policy, clock: ctx.clock, logger: log });
  }
  if (a.protocol === 'prometheus' && profile.protocol === 'prometheus') {
    const policy = devicePolicy(device, ctx.prometheus ?? DEFAULT_PROMETHEUS_POLICY);
    const secrets = secretsOrRefusal(() => (a.bearer_token !== undefined ? resolveSecret(a.bearer_token, `device ${device.id}: address.bearer_token`, ctx.env) : undefined), profile, log);
    if (!secrets.ok) return secrets.reader;
    const token = secrets.value;
    const transport = createHttpScrapeTransport({ scheme: a.scheme, host: a.host, port: a.port, path: a.path, bearerToken: token, verifyTls: a.verify_tls });
    return new PrometheusReader({ profile, transport, policy, clock: ctx.clock, logger: log });
  }
  // selectDevices refuses protocol mismatches; a reader that cannot exist is reported, not thrown.
  log.error('device not polled: no reader for its protocol', { protocol: a.protocol, profile: profile.id });
  return failingReader(profile, 'DCIM_E_CONFIG_INVALID');
}

function resolveSnmpSecrets(a: SnmpAddress, device: string, env?: NodeJS.ProcessEnv): ResolvedSnmpAddress {
  const what = (f: string) => `device ${device}: address.${f}`;
  return {
    ...a,
    community: resolveSecret(a.community, what('community'), env),
    auth_key: a.auth_key !== undefined ? resolveSecret(a.auth_key, what('auth_key'), env) : undefined,
    priv_key: a.priv_key !== undefined ? resolveSecret(a.priv_key, what('priv_key'), env) : undefined,
  };
}

/** Missing, or refused for its file's permissions. */
/**
 * A device's secrets, resolved; or, when one is missing or in a file others may read, the failing
 * reader that shows the device down with that code (it is never polled without them).
 */
function secretsOrRefusal<T>(resolve: () => T, profile: DeviceProfile, log: Logger): { ok: true; value: T } | { ok: false; reader: DeviceReader } {
  try {
    return { ok: true, value: resolve() };
  } catch (e) {
    log.error('device not polled: secret missing', { error: e as Error });
    return { ok: false, reader: failingReader(profile, e instanceof DcimError ? e.code : 'DCIM_E_SECRET_MISSING') };
  }
}

/** A device that cannot be polled at all still shows up, as down with the reason. */
export function failingReader(profile: DeviceProfile, code: ErrorCode): DeviceReader {
  const points = allPoints(profile);
  return {
    read: async () => ({ readings: points.map((p) => badReading(p.name, p.unit, code)), poll: { ms: 0, requests: 0, retries: 0, timeouts: 0 } }),
    close: async () => undefined,
  };
}
