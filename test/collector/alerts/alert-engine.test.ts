import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiValue } from '../../../contract/messages.js';
import { AlertEngine } from '../../../collector/alerts/alert-engine.js';
import type { AlertTransition } from '../../../collector/alerts/alert-record.js';
import { loadAlertRuleSet, parseAlertRules, type AlertRuleSet } from '../../../collector/alerts/load-rules.js';
import { agentState, down, profiles, temp, testInventory, up } from './fixtures.js';

const SENSORS = ['th-r1', 'th-r2', 'th-r3', 'th-r4'] as const;
const METERS = ['pdu-r1', 'incomer'] as const;
const NORMAL = 23;

/**
 * An engine on a ManualClock; `run(ms)` moves time in 10 s poll steps, feeding every sensor its
 * current temperature (unless silenced) and evaluating after each step, like the collector's tick.
 */
function harness(opts: { rules?: AlertRuleSet; state_file?: string; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 5, 1, 0, 0, 0));
  const logger = memoryLogger('info');
  const engine = new AlertEngine({ inventories: [testInventory()], profiles, rules: opts.rules ?? loadAlertRuleSet(), clock, logger, ...(opts.state_file ? { state_file: opts.state_file } : {}) });
  const temps = new Map<string, number>(SENSORS.map((s) => [s, NORMAL]));
  const silent = new Set<string>();
  const transitions: AlertTransition[] = [];
  const step = () => {
    for (const s of SENSORS) if (!silent.has(s)) engine.observeTelemetry({ agent: 'edge-1', site: 't', device: s, ts: clock.now(), readings: [temp(temps.get(s) as number)] });
    for (const m of METERS) if (!silent.has(m)) engine.observeTelemetry({ agent: 'edge-1', site: 't', device: m, ts: clock.now(), readings: [{ point: 'active_power_w', value: 5000, unit: 'W', quality: 'good' }] });
    transitions.push(...engine.evaluate(clock.now()).transitions);
  };
  return {
    clock,
    engine,
    logger,
    temps,
    silent,
    transitions,
    start() {
      engine.start();
      step();
    },
    /** Advance `ms` in 10 s steps. */
    run(ms: number) {
      for (let t = 0; t < ms; t += 10_000) {
        clock.advance(10_000);
        step();
      }
    },
    firing: (rule?: string) => engine.list({ state: 'firing', ...(rule ? { rule } : {}) }),
    pending: (rule?: string) => engine.list({ state: 'pending', ...(rule ? { rule } : {}) }),
    /** `rule/severity/place` of each transition of that kind, optionally of one rule. */
    fired: (rule?: string) => names(transitions, 'firing', rule),
    resolved: (rule?: string) => names(transitions, 'resolved', rule),
  };
}

function names(ts: readonly AlertTransition[], kind: AlertTransition['kind'], rule?: string): string[] {
  return ts
    .filter((t) => t.kind === kind && (rule === undefined || t.alert.rule === rule))
    .map((t) => {
      const l = t.alert.labels;
      return `${t.alert.rule}/${t.alert.severity}/${l.device ?? l.agent ?? l.rack ?? l.rack_group ?? l.site}`;
    });
}

const INLET = 'rack_inlet_temperature';

const tmpFile = () => join(mkdtempSync(join(tmpdir(), 'dcim-alert-state-')), 'alerts.json');

describe('AlertEngine: rack inlet temperature (ASHRAE bands, 5 min hold, 1 °C hysteresis)', () => {
  it('holds 5 minutes before firing, then fires once for the rack group with its racks listed', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r1', 28.4);
    h.temps.set('th-r2', 27.5);
    h.run(10_000); // the first hot reading: pending from here
    expect(h.pending().map((a) => a.name)).toEqual(['RackInletTemperature']);
    h.run(4 * 60_000 + 50_000);
    expect(h.firing(INLET)).toEqual([]);
    h.run(10_000);
    expect(h.fired(INLET)).toEqual(['rack_inlet_temperature/warning/pod-a']);
    const [a] = h.firing(INLET);
    expect(a?.labels).toEqual({ alertname: 'RackInletTemperature', severity: 'warning', site: 't', hall: 'h1', rack_group: 'pod-a' });
    expect(a?.summary).toBe('Rack inlet 28.4 °C in rack group pod-a (hall h1), outside 18–27 °C (warning)');
    expect(a?.description).toMatch(/^Racks outside 18–27 °C: r1 28.4, r2 27.5\./);
    expect(a?.runbook).toMatch(/^Check the cooling serving rack group pod-a \(hall h1\)/);
    // Evaluating again and again changes nothing: one alert, one transition.
    h.run(10 * 60_000);
    expect(h.fired(INLET)).toHaveLength(1);
  });

  it('a dip below the limit during the hold restarts it', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r3', 28);
    h.run(4 * 60_000);
    h.temps.set('th-r3', 26.9);
    h.run(10_000);
    expect(h.pending()).toEqual([]);
    h.temps.set('th-r3', 28);
    h.run(10_000);
    h.run(4 * 60_000 + 50_000);
    expect(h.firing()).toEqual([]);
    h.run(10_000);
    expect(h.fired()).toEqual(['rack_inlet_temperature/warning/pod-b']);
  });

  it('does not flap inside the hysteresis band and resolves below it', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r3', 28);
    h.run(6 * 60_000);
    expect(h.fired()).toEqual(['rack_inlet_temperature/warning/pod-b']);
    // 26.1 … 27.9 around the 27 °C limit: inside limit − 1 °C, the alert stays up.
    for (const v of [26.5, 27.2, 26.1, 27.9, 26.8]) {
      h.temps.set('th-r3', v);
      h.run(60_000);
    }
    expect(h.resolved()).toEqual([]);
    expect(h.firing()).toHaveLength(1);
    h.temps.set('th-r3', 25.9);
    h.run(10_000);
    expect(h.resolved()).toEqual(['rack_inlet_temperature/warning/pod-b']);
    // Back at 27 (the limit itself is inside the range) nothing starts again.
    h.temps.set('th-r3', 27);
    h.run(10 * 60_000);
    expect(h.pending()).toEqual([]);
    expect(h.fired()).toHaveLength(1);
  });

  it('a re-fire after a resolve is the same alert id, a new episode', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r3', 14);
    h.run(6 * 60_000);
    h.temps.set('th-r3', 20);
    h.run(10_000);
    h.temps.set('th-r3', 14);
    h.run(6 * 60_000);
    const fired = h.transitions.filter((t) => t.kind === 'firing' && t.alert.rule === INLET);
    expect(h.fired(INLET)).toEqual(['rack_inlet_temperature/critical/pod-b', 'rack_inlet_temperature/critical/pod-b']);
    expect(fired[0]?.alert.id).toBe(fired[1]?.alert.id);
    const resolvedAt = h.transitions.find((t) => t.kind === 'resolved' && t.alert.rule === INLET)?.at_ms as number;
    expect(fired[1]?.alert.starts_at).toBeGreaterThan(resolvedAt);
    expect(resolvedAt).toBeGreaterThan(fired[0]?.alert.starts_at as number);
    expect(fired[1]?.alert.version).toBe(3);
  });

  it('critical holds back the warning of the same group, and a rack without a group alerts on its own', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r1', 33);
    h.temps.set('th-r2', 34.5);
    h.temps.set('th-r4', 29);
    h.run(6 * 60_000);
    expect(h.fired(INLET).sort()).toEqual(['rack_inlet_temperature/critical/pod-a', 'rack_inlet_temperature/warning/r4']);
    const pending = h.pending(INLET);
    expect(pending.map((p) => [p.severity, p.labels.rack_group, p.inhibited])).toEqual([['warning', 'pod-a', true]]);
    const crit = h.firing(INLET).find((a) => a.severity === 'critical');
    expect(crit?.value).toBe(34.5);
    expect(crit?.description).toMatch(/^Racks outside 15–32 °C: r2 34.5, r1 33\./);
    expect(h.firing(INLET).find((a) => a.labels.rack === 'r4')?.labels).toEqual({ alertname: 'RackInletTemperature', severity: 'warning', site: 't', hall: 'h1', rack: 'r4' });
  });
});

describe('AlertEngine: escalation from warning to critical (the usual order, since the bands nest)', () => {
  it('the critical supersedes the firing warning of the same group; on de-escalation the warning fires again at once', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r1', 28);
    h.run(6 * 60_000);
    expect(h.fired(INLET)).toEqual(['rack_inlet_temperature/warning/pod-a']);
    const warningId = h.firing(INLET)[0]?.id;

    h.temps.set('th-r1', 33);
    h.run(5 * 60_000); // pending from the first step at 33 °C: 4 min 50 s held
    expect(h.firing(INLET).map((a) => a.severity)).toEqual(['warning']);
    h.transitions.length = 0;
    h.run(10_000);
    // One evaluation: the critical fires and the warning of the same group ends, held back.
    expect(h.fired(INLET)).toEqual(['rack_inlet_temperature/critical/pod-a']);
    expect(h.resolved(INLET)).toEqual(['rack_inlet_temperature/warning/pod-a']);
    expect(h.firing(INLET).map((a) => [a.severity, a.labels.rack_group])).toEqual([['critical', 'pod-a']]);
    expect(h.pending(INLET).map((a) => [a.id, a.severity, a.inhibited])).toEqual([[warningId, 'warning', true]]);

    // Held back for as long as the critical fires: no flapping, nothing announced again.
    h.transitions.length = 0;
    h.run(15 * 60_000);
    expect(h.transitions.filter((t) => t.alert.rule === INLET)).toEqual([]);

    // Back to 30 °C (below 32 − 1 °C): the critical resolves and the warning, whose condition held
    // all along, fires again in the same evaluation, with no second 5-minute hold.
    h.temps.set('th-r1', 30);
    h.run(10_000);
    expect(h.resolved(INLET)).toEqual(['rack_inlet_temperature/critical/pod-a']);
    expect(h.fired(INLET)).toEqual(['rack_inlet_temperature/warning/pod-a']);
    expect(h.firing(INLET).map((a) => [a.id, a.severity])).toEqual([[warningId, 'warning']]);
    h.temps.set('th-r1', 25.5);
    h.run(10_000);
    expect(h.firing(INLET)).toEqual([]);
  });

  it('another root cause does not end an announced alert: a stale sensor that then goes down stays firing', () => {
    const h = harness();
    h.start();
    h.silent.add('th-r3');
    h.run(6 * 60_000);
    expect(h.fired()).toEqual(['sensor_stale/warning/th-r3']);
    h.engine.observeDeviceStatus('t', 'th-r3', down(h.clock.now()), 'edge-1');
    h.run(2 * 60_000);
    expect(h.fired('device_down')).toEqual(['device_down/critical/th-r3']);
    expect(h.resolved()).toEqual([]);
    expect(h.firing('sensor_stale').map((a) => a.labels.device)).toEqual(['th-r3']);
  });
});

describe('AlertEngine: one alert per root cause', () => {
  it('a sensor that is down pages once as device down; its stale alert is held back', () => {
    const h = harness();
    h.start();
    h.run(60_000);
    h.silent.add('th-r1');
    h.engine.observeDeviceStatus('t', 'th-r1', down(h.clock.now()), 'edge-1');
    h.run(20 * 60_000);
    expect(h.fired()).toEqual(['device_down/critical/th-r1']);
    const stale = h.pending().find((a) => a.rule === 'sensor_stale');
    expect(stale?.inhibited).toBe(true);
    // Back up: device down resolves, the sensor reports again, nothing else ever fired.
    h.silent.delete('th-r1');
    h.engine.observeDeviceStatus('t', 'th-r1', up(h.clock.now()), 'edge-1');
    h.run(30_000);
    expect(h.resolved()).toEqual(['device_down/critical/th-r1']);
    expect(h.engine.list({ state: 'pending' })).toEqual([]);
  });

  it('without a down status, a silent sensor raises SensorStale after max(3 × interval, 5 min)', () => {
    const h = harness();
    h.start();
    h.run(60_000);
    h.silent.add('th-r3');
    h.run(5 * 60_000);
    expect(h.fired()).toEqual([]);
    h.run(20_000);
    expect(h.fired()).toEqual(['sensor_stale/warning/th-r3']);
    const a = h.firing()[0];
    expect(a?.labels).toMatchObject({ device: 'th-r3', point: 'inlet_temp_c', rack: 'r3', rack_group: 'pod-b' });
    expect(a?.summary).toMatch(/^No data from inlet_temp_c of th-r3 for 5m\d+s$/);
    h.silent.delete('th-r3');
    h.run(10_000);
    expect(h.resolved()).toEqual(['sensor_stale/warning/th-r3']);
  });

  it('an offline agent pages once; the devices it polls stay quiet', () => {
    const h = harness();
    h.start();
    h.engine.observeAgentState('t', 'edge-1', agentState(true, h.clock.now()));
    h.run(60_000);
    for (const s of [...SENSORS, ...METERS]) h.silent.add(s);
    h.engine.observeAgentState('t', 'edge-1', agentState(false, h.clock.now()));
    h.run(30 * 60_000);
    expect(h.fired()).toEqual(['agent_offline/critical/edge-1']);
    expect(h.pending().map((a) => `${a.rule}/${a.labels.device}/${a.inhibited}`).sort()).toEqual([
      'meter_stale/incomer/true',
      'meter_stale/pdu-r1/true',
      ...SENSORS.map((s) => `sensor_stale/${s}/true`),
    ]);
    h.engine.observeAgentState('t', 'edge-1', agentState(true, h.clock.now()));
    for (const s of [...SENSORS, ...METERS]) h.silent.delete(s);
    h.run(10_000);
    expect(h.resolved()).toEqual(['agent_offline/critical/edge-1']);
    expect(h.pending()).toEqual([]);
  });
});

describe('AlertEngine: restart from the state file', () => {
  it('neither re-fires nor forgets a firing alert, and keeps a pending hold', () => {
    const file = tmpFile();
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const a = harness({ state_file: file, clock });
    a.start();
    a.temps.set('th-r3', 29);
    a.temps.set('th-r1', 28);
    a.run(6 * 60_000);
    expect(a.fired(INLET).sort()).toEqual(['rack_inlet_temperature/warning/pod-a', 'rack_inlet_temperature/warning/pod-b']);
    a.temps.set('th-r1', 23);
    a.run(10_000);
    expect(a.resolved(INLET)).toEqual(['rack_inlet_temperature/warning/pod-a']);
    a.temps.set('th-r2', 14.5);
    a.run(3 * 60_000); // r2 below 15 °C: pending critical since the first of these steps, 2 min 50 s done
    void a.engine.stop();

    clock.advance(60_000); // the collector is down for a minute
    const b = harness({ state_file: file, clock });
    b.temps.set('th-r3', 29);
    b.temps.set('th-r2', 14.5);
    b.engine.start();
    // Before any reading arrives: everything as it was, nothing announced again.
    expect(b.engine.evaluate(clock.now()).transitions).toEqual([]);
    expect(b.firing(INLET).map((x) => x.labels.rack_group)).toEqual(['pod-b']);
    expect(b.pending(INLET).map((x) => [x.severity, x.labels.rack_group])).toEqual([['critical', 'pod-a'], ['warning', 'pod-a']]);
    b.run(60_000); // 2 min 50 s before + 1 min down + 1 min: still pending
    expect(b.fired()).toEqual([]);
    b.run(10_000);
    expect(b.fired(INLET)).toEqual(['rack_inlet_temperature/critical/pod-a']);
    b.temps.set('th-r3', 23);
    b.run(10_000);
    expect(b.resolved(INLET)).toEqual(['rack_inlet_temperature/warning/pod-b']);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { schema: number; alerts: { rule: string; state: string }[] };
    expect(saved.schema).toBe(1);
    expect(saved.alerts.filter((x) => x.rule === INLET).map((x) => x.state).sort()).toEqual(['firing', 'pending', 'resolved']);
  });

  it('an unreadable state file is set aside, logged, and the engine starts empty', () => {
    const file = tmpFile();
    writeFileSync(file, '{"schema":1,"alerts":[{"id":');
    const h = harness({ state_file: file });
    h.start();
    expect(h.engine.stats().state_load_errors).toBe(1);
    expect(h.logger.lines.some((l) => l.msg === 'alert state unreadable; starting without it' && String(l.kept_as).startsWith(`${file}.unreadable-`))).toBe(true);
    h.run(10_000);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schema: 1, alerts: [] });
  });
});

describe('AlertEngine: KPI targets, counter resets, rate of change', () => {
  const kpi = (over: Partial<KpiValue>): KpiValue => ({
    kpi: 'pue',
    window: '1y',
    window_start: Date.UTC(2025, 0, 1),
    window_end: Date.UTC(2026, 0, 1),
    value: 1.5,
    ok: true,
    basis: 'energy',
    category: 2,
    coverage: 1,
    quality: 'measured',
    target: 1.3,
    status: 'red',
    ...over,
  });

  it.each([
    ['insufficient quality', { quality: 'insufficient' as const, status: 'grey' as const }, []],
    ['no value', { ok: false, value: undefined, reason: 'DCIM_E_KPI_INSUFFICIENT: no IT energy' }, []],
    ['another window only', { window: 'ytd' as const }, []],
    ['a measured breach', {}, ['pue_target/warning/t']],
    ['a partial breach', { quality: 'partial' as const }, ['pue_target/warning/t']],
    ['met', { value: 1.29, status: 'green' as const }, []],
  ])('PUE 1y with %s', (_, over: Partial<KpiValue>, fired) => {
    const h = harness();
    h.start();
    h.engine.observeKpis('t', [kpi(over)]);
    h.run(10_000);
    expect(h.fired()).toEqual(fired);
    if (fired.length > 0) expect(h.firing()[0]?.summary).toBe(`PUE (1y) of t is ${over.value ?? 1.5}, target 1.3`);
  });

  it('a firing KPI alert survives a spell of insufficient data and resolves when met', () => {
    const h = harness();
    h.start();
    h.engine.observeKpis('t', [kpi({ kpi: 'rack_occupancy_ratio', window: '1mo', value: 0.62, target: 0.7 })]);
    h.run(10_000);
    expect(h.fired()).toEqual(['rack_occupancy_target/warning/t']);
    h.engine.observeKpis('t', [kpi({ kpi: 'rack_occupancy_ratio', window: '1mo', ok: false, value: undefined, quality: 'insufficient' })]);
    h.run(60_000);
    expect(h.resolved()).toEqual([]);
    h.engine.observeKpis('t', [kpi({ kpi: 'rack_occupancy_ratio', window: '1mo', value: 0.71, target: 0.7 })]);
    h.run(10_000);
    expect(h.resolved()).toEqual(['rack_occupancy_target/warning/t']);
  });

  it('a counter reset fires once, holds an hour, and a restart does not re-fire it', () => {
    const file = tmpFile();
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const h = harness({ state_file: file, clock });
    h.start();
    h.engine.observeMeterEvents('t', { incomer: { resets: 0 }, 'pdu-r1': { resets: 2 } });
    h.run(10_000);
    expect(h.fired()).toEqual([]);
    h.engine.observeMeterEvents('t', { incomer: { resets: 1 }, 'pdu-r1': { resets: 2 } });
    h.run(10_000);
    expect(h.fired()).toEqual(['counter_reset/warning/incomer']);
    expect(h.firing()[0]?.labels).toEqual({ alertname: 'EnergyCounterReset', severity: 'warning', site: 't', hall: 'h1', device: 'incomer' });
    h.run(30 * 60_000);
    void h.engine.stop();
    const b = harness({ state_file: file, clock });
    b.engine.start();
    b.engine.observeMeterEvents('t', { incomer: { resets: 1 }, 'pdu-r1': { resets: 2 } });
    b.run(29 * 60_000);
    expect(b.fired()).toEqual([]);
    expect(b.resolved()).toEqual([]);
    b.run(60_000);
    expect(b.resolved()).toEqual(['counter_reset/warning/incomer']);
  });

  it('a rise of more than 5 °C within 15 minutes fires the rate-of-change warning for the group', () => {
    const h = harness();
    h.start();
    h.run(60_000);
    for (let i = 1; i <= 12; i++) {
      h.temps.set('th-r2', NORMAL + i * 0.5); // +6 °C in 12 min, below 27 °C until the end
      h.run(60_000);
    }
    expect(h.fired()).toEqual(['rack_inlet_rate_of_change/warning/pod-a']);
    expect(h.firing().find((a) => a.rule === 'rack_inlet_rate_of_change')?.summary).toMatch(/^Rack inlet temperature changed 6 °C within 15m in rack group pod-a/);
    // Steady at the new level: the window slides past the rise and the alert resolves.
    h.run(16 * 60_000);
    expect(h.resolved()).toContain('rack_inlet_rate_of_change/warning/pod-a');
  });
});

describe('AlertEngine: input hygiene and outputs', () => {
  it('counts observations from outside the inventory and ignores them', () => {
    const h = harness();
    h.start();
    h.engine.observeTelemetry({ site: 't', device: 'ghost', ts: h.clock.now(), readings: [temp(40)] });
    h.engine.observeTelemetry({ site: 'elsewhere', device: 'th-r1', ts: h.clock.now(), readings: [temp(40)] });
    h.engine.observeAgentState('elsewhere', 'a', agentState(false, h.clock.now()));
    h.engine.observeTelemetry({ site: 't', device: 'th-r1', ts: h.clock.now(), readings: [{ point: 'inlet_temp_c', value: null, quality: 'bad', error: 'DCIM_E_MODBUS_TIMEOUT' }] });
    expect(h.engine.stats().observations_unknown).toBe(3);
    h.run(10 * 60_000);
    expect(h.fired()).toEqual([]);
  });

  it('writes one alert point per transition, stamped when it happened', () => {
    const h = harness();
    h.start();
    h.temps.set('th-r4', 33);
    const points = [];
    for (let i = 0; i < 40; i++) {
      h.clock.advance(10_000);
      h.engine.observeTelemetry({ site: 't', device: 'th-r4', ts: h.clock.now(), readings: [temp(i < 35 ? 33 : 20)] });
      points.push(...h.engine.evaluate(h.clock.now()).points.filter((p) => p.tags.rule === INLET));
    }
    expect(points.map((p) => [p.tags.severity, p.fields.state])).toEqual([
      ['critical', 'firing'],
      ['critical', 'resolved'],
    ]);
    expect(points[0]).toMatchObject({ measurement: 'alert', tags: { site: 't', rule: 'rack_inlet_temperature', severity: 'critical', hall: 'h1', rack: 'r4' }, fields: { state: 'firing', value: 33 } });
    expect(points[1]?.fields.duration_s).toBe((points[1]!.ts_ms - points[0]!.ts_ms) / 1000);
  });

  it('a rule removed from the config resolves its firing alerts', () => {
    const file = tmpFile();
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const rules = parseAlertRules('rules: [{ id: hot, kind: reading, meaning: inlet_temp_c, bands: { warning: { above: 25 } }, summary: "hot {device}" }]');
    const a = harness({ rules, state_file: file, clock });
    a.start();
    a.temps.set('th-r1', 26);
    a.run(10_000);
    expect(a.fired()).toEqual(['hot/warning/th-r1']);
    void a.engine.stop();
    const b = harness({ rules: parseAlertRules('rules: []'), state_file: file, clock });
    b.start();
    expect(b.resolved()).toEqual(['hot/warning/th-r1']);
  });
});
