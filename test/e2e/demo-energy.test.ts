import { afterEach, describe } from 'vitest';
import { useService } from '../support/require-service.js';
import { startMosquitto } from '../support/services.js';
import { quarterAndHourCase, SOAK, stopDemoSite } from './support/demo-energy-run.js';

/**
 * What `dcim demo` shows, proven: the demo seed with the real device profiles (APC PDUs counting
 * in 0.1 kWh steps, Raritan in 1 Wh, Modbus meters, Redfish BMCs without a counter, …) through
 * simulator → agent → mosquitto → collector, every device polled at the demo's rates. The energy
 * PUE of each 15-minute window and of the hour, as the collector publishes them once settled, must
 * be within 0.5 % of the simulator's truth for the same window. One ManualClock, stepped one poll
 * at a time (support/demo-energy-run.ts), so the figures do not depend on the machine's load.
 *
 * Always: 5 s polls through the first whole quarter hour, 60 s polls through the hour.
 * DCIM_SOAK_TESTS=1 adds 5 s polls through the hour (≈ 5 min, too long for CI's budget). The
 * 2 s polls are in demo-energy.2s.test.ts, the local day in demo-energy.day.test.ts: separate
 * files, so two workers run the long parts side by side.
 */

afterEach(stopDemoSite);

describe('the demo seed at the demo poll rates: energy KPIs against the simulator truth', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  quarterAndHourCase(broker, 5, 'quarter', true);
  quarterAndHourCase(broker, 60, 'hour', true);
  quarterAndHourCase(broker, 5, 'hour', SOAK);
});
