import { ManualClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { loadAlertRuleSet, type AlertRuleSet } from '../../../../collector/alerts/load-rules.js';
import type { Notifier } from '../../../../collector/alerts/notifiers/notifier.js';
import type { SiteInventory } from '../../../../contract/inventory.js';
import { agentState, profiles, temp, testInventory } from '../fixtures.js';

/** The built-in rules without the rate-of-change rule, which a test's temperature steps would also trip. */
export function inletRules(): AlertRuleSet {
  const set = loadAlertRuleSet();
  return { ...set, rules: set.rules.filter((r) => r.id !== 'rack_inlet_rate_of_change') };
}

/**
 * The test site with 70 more devices (switches in hall h1 that no rule watches): the bursts below
 * take up to 60 agents offline, and the alert engine keeps no more agents per site than the site has
 * devices (an agent polls at least one), so the site must be that large.
 */
function manyDevices(inv: SiteInventory): SiteInventory {
  const extra = Array.from({ length: 70 }, (_, i) => ({ id: `switch-${i + 1}`, profile: 'generic-snmp', hall: 'h1', address: { protocol: 'snmp' as const, host: '127.0.0.1', port: 161, version: '2c' as const, community: `sw${i + 1}` }, interval_s: 60 }));
  return { ...inv, devices: [...inv.devices, ...extra] } as SiteInventory;
}

/** 2026-06-01 00:00 UTC = 08:00 in Asia/Shanghai. */
export const T0 = Date.UTC(2026, 5, 1);

/**
 * An alert engine on a ManualClock delivering to the given notifiers: `run(ms)` moves time in
 * 10 s steps, feeding each inlet sensor its temperature and evaluating, like the collector's tick.
 */
export function robotHarness(notifiers: Notifier[], opts: { rules?: AlertRuleSet; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const logger = memoryLogger('debug');
  const engine = new AlertEngine({ inventories: [manyDevices(testInventory())], profiles, rules: opts.rules ?? inletRules(), clock, logger, notifiers, backoff_min_ms: 1000, backoff_max_ms: 8000 });
  const temps = new Map<string, number>(['th-r1', 'th-r2', 'th-r3', 'th-r4'].map((s) => [s, 23]));
  const step = () => {
    for (const [s, v] of temps) engine.observeTelemetry({ agent: 'edge-1', site: 't', device: s, ts: clock.now(), readings: [temp(v)] });
    for (const m of ['pdu-r1', 'incomer']) engine.observeTelemetry({ agent: 'edge-1', site: 't', device: m, ts: clock.now(), readings: [{ point: 'active_power_w', value: 5000, unit: 'W', quality: 'good' }] });
    engine.evaluate(clock.now());
  };
  return {
    clock,
    engine,
    logger,
    temps,
    start() {
      engine.start();
      step();
    },
    run(ms: number) {
      for (let t = 0; t < ms; t += 10_000) {
        clock.advance(10_000);
        step();
      }
    },
    agent(name: string, online: boolean) {
      engine.observeAgentState('t', name, agentState(online, clock.now()));
      engine.evaluate(clock.now());
    },
    /** Every log line as one string, to look for leaked secrets. */
    logText: () => JSON.stringify(logger.lines),
    stats: (name: string) => engine.stats().notifiers[name],
  };
}
