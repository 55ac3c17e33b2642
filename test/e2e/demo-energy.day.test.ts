import { afterEach, describe } from 'vitest';
import { useService } from '../support/require-service.js';
import { startMosquitto } from '../support/services.js';
import { dayCase, LONG, SOAK, stopDemoSite } from './support/demo-energy-run.js';

/**
 * The demo seed through a whole local day on the stepped ManualClock of demo-energy.test.ts: every
 * 15-minute and hourly energy PUE, the daily PUE, rack occupancy and green share within 0.5 % of the
 * simulator's truth. 5-minute polls with DCIM_LONG_TESTS=1 (CI, ≈ 290 steps); 60 s polls with
 * DCIM_SOAK_TESTS=1 (≈ 6 min, too long for CI's budget).
 */

afterEach(stopDemoSite);

describe('the demo seed through a local day: energy KPIs against the simulator truth', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  dayCase(broker, 300, LONG || SOAK);
  dayCase(broker, 60, SOAK);
});
