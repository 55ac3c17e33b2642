import type { ErrorCode, Reading } from '../contract/index.js';

/**
 * What every protocol reader offers the scheduler. A reader never throws for a device
 * problem: unreachable devices, timeouts and odd answers become `quality: 'bad'` readings.
 */
export interface PollStats {
  ms: number;
  requests: number;
  retries: number;
  timeouts: number;
  /** Device faults of this poll that are not one reading's (a broken SunSpec chain …): code → count. */
  faults?: Partial<Record<ErrorCode, number>>;
}

export interface PollResult {
  readings: Reading[];
  poll: PollStats;
}

export interface ReadOptions {
  /** Absolute time (Clock ms) after which no new request is sent; the rest of the poll fails fast. */
  deadlineAt?: number;
  /**
   * The device is known to be down (scheduler back-off): send the first request without retries,
   * so a dead device costs one request per probe.
   */
  probe?: boolean;
}

export interface DeviceReader {
  read(opts?: ReadOptions): Promise<PollResult>;
  close(): Promise<void>;
}

/** Retry and timeout policy of one device's requests (Telegraf's and snmp_exporter's defaults: a short timeout, one retry). */
export interface RequestPolicy {
  timeoutMs: number;
  retries: number;
}

export const DEFAULT_SNMP_POLICY: RequestPolicy = { timeoutMs: 2000, retries: 1 };
export const DEFAULT_MODBUS_POLICY: RequestPolicy = { timeoutMs: 1000, retries: 1 };
/** BMCs are slow (idrac_exporter users see 25–55 s for a full iDRAC scrape): a longer timeout per request. */
export const DEFAULT_REDFISH_POLICY: RequestPolicy = { timeoutMs: 5000, retries: 1 };
/** An exporter answers from memory (dcgm-exporter, npu-exporter refresh on their own timers): a scrape is quick. */
export const DEFAULT_PROMETHEUS_POLICY: RequestPolicy = { timeoutMs: 3000, retries: 1 };

/**
 * Error codes that mean the device (or the path to it) failed, as opposed to a value the
 * device served but we could not use. They decide `down`/`degraded` (device-status.ts).
 */
export const TRANSPORT_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'DCIM_E_SNMP_TIMEOUT',
  'DCIM_E_SNMP_ERROR',
  'DCIM_E_MODBUS_TIMEOUT',
  'DCIM_E_MODBUS_EXCEPTION',
  'DCIM_E_MODBUS_CONNECT',
  'DCIM_E_REDFISH_TIMEOUT',
  'DCIM_E_REDFISH_HTTP',
  'DCIM_E_REDFISH_AUTH',
  'DCIM_E_PROM_TIMEOUT',
  'DCIM_E_PROM_HTTP',
  'DCIM_E_PROM_AUTH',
  'DCIM_E_NET_HOST_UNKNOWN',
  'DCIM_E_SECRET_MISSING',
  // A device the agent cannot build a reader for is not being read: down, not up.
  'DCIM_E_CONFIG_INVALID',
]);

/** Mutable counters of one poll. */
export class PollCounter {
  requests = 0;
  retries = 0;
  timeouts = 0;

  faults: Partial<Record<ErrorCode, number>> = {};

  fault(code: ErrorCode): void {
    this.faults[code] = (this.faults[code] ?? 0) + 1;
  }

  stats(ms: number): PollStats {
    const faults = Object.keys(this.faults).length > 0 ? { faults: { ...this.faults } } : {};
    return { ms: Math.max(0, ms), requests: this.requests, retries: this.retries, timeouts: this.timeouts, ...faults };
  }
}
