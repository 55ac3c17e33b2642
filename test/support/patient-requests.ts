import type { RequestPolicy } from '../../agent/device-reader.js';

/**
 * Request policies for an agent whose simulated peers are all healthy. Protocol timeouts run on
 * real timers even under a ManualClock, and on a loaded machine a simulator (often in the test's
 * own process) may answer later than the agent's defaults (1–2 s) wait: a test that proves what
 * is read, not how fast, gives it time to answer. Tests of dead or slow devices set their own.
 */
export const PATIENT_REQUESTS: { snmp: RequestPolicy; modbus: RequestPolicy; redfish: RequestPolicy } = {
  snmp: { timeoutMs: 10_000, retries: 1 },
  modbus: { timeoutMs: 10_000, retries: 1 },
  redfish: { timeoutMs: 15_000, retries: 1 },
};
