import { afterEach, describe } from 'vitest';
import { useService } from '../support/require-service.js';
import { startMosquitto } from '../support/services.js';
import { LONG, quarterAndHourCase, SOAK, stopDemoSite } from './support/demo-energy-run.js';

/**
 * The demo seed at the demo's fastest rate, every device polled every 2 s: the 15-minute energy PUE
 * within 0.5 % of the simulator's truth (what demo-energy.test.ts proves at 5 s and 60 s, on the
 * same stepped ManualClock). A step costs the same wall time whatever the interval, so the quarter
 * hour (≈ 480 steps) waits for DCIM_LONG_TESTS=1 (CI); the hour (≈ 1,830 steps, ≈ 5 min) for
 * DCIM_SOAK_TESTS=1.
 */

afterEach(stopDemoSite);

describe('the demo seed polled every 2 s: energy KPIs against the simulator truth', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  quarterAndHourCase(broker, 2, 'quarter', LONG || SOAK);
  quarterAndHourCase(broker, 2, 'hour', SOAK);
});
