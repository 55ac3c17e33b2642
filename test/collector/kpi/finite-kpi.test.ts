import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { finiteKpi, MAX_PUE } from '../../../collector/kpi/finite-kpi.js';
import { sitePowerModel } from '../../../collector/kpi/power-meters.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { memoryLogger } from '../../../shared/log.js';
import { KpiMessageSchema, type KpiMessage, type KpiValue } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';

/**
 * A KPI figure is a finite number or no figure: an IT power of 5e-324 W (finite, and accepted as a
 * reading) makes facility / IT overflow to Infinity, which the KPI message's schema refuses. Without
 * the last gate the site's whole retained message failed to publish on every tick.
 */
const PROFILES = loadProfiles();
const T0 = Date.UTC(2026, 0, 5, 2, 0, 0);
const modbus = (unit_id: number) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id });

const base: KpiValue = { kpi: 'pue_live', window: 'instant', window_start: T0, window_end: T0, ok: true, value: 1.3, basis: 'power', coverage: 1, quality: 'measured', status: 'red', inputs: { facility_power_w: 130, it_power_w: 100 } };

describe('finiteKpi', () => {
  it('passes a finite figure with finite inputs unchanged', () => {
    expect(finiteKpi(base)).toBe(base);
  });

  it('turns an Infinity or NaN figure, or a non-finite input, into insufficient with DCIM_E_KPI_NOT_FINITE, keeping the finite inputs', () => {
    const inf = finiteKpi({ ...base, value: Number.POSITIVE_INFINITY, inputs: { facility_power_w: 1e5, it_power_w: 5e-324 } });
    expect(inf).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', reason_code: 'DCIM_E_KPI_NOT_FINITE', inputs: { facility_power_w: 1e5, it_power_w: 5e-324 } });
    expect(inf.value).toBeUndefined();
    expect(inf.reason).toContain('the value is Infinity');
    const nanInput = finiteKpi({ ...base, inputs: { facility_power_w: Number.NaN, it_power_w: 100 } });
    expect(nanInput).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_NOT_FINITE', inputs: { it_power_w: 100 } });
    expect(nanInput.inputs).not.toHaveProperty('facility_power_w');
    expect(nanInput.reason).toContain('facility_power_w is NaN');
    expect(KpiMessageSchema.safeParse({ schema: 1, site: 's', ts: T0, kpis: [inf, nanInput] }).success).toBe(true);
  });

  it(`refuses a PUE above ${MAX_PUE} (live or energy), not other ratios`, () => {
    expect(finiteKpi({ ...base, value: MAX_PUE })).toMatchObject({ ok: true, value: MAX_PUE });
    expect(finiteKpi({ ...base, value: 2e5 })).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_NOT_FINITE' });
    expect(finiteKpi({ ...base, kpi: 'pue', window: '15m', value: 150 })).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_NOT_FINITE' });
    expect(finiteKpi({ ...base, kpi: 'compute_ai_pflops', value: 2e5 })).toMatchObject({ ok: true, value: 2e5 });
  });
});

describe('a site whose IT meters report 5e-324 W, through the collector', () => {
  it('publishes a valid KPI message: live PUE without a value and with the reason, live green share as usual', () => {
    const inventory = SiteInventorySchema.parse({
      site: { id: 's1', name: 's1', pue_it_level: 'pdu_out' },
      halls: [{ id: 'h1' }],
      racks: [1, 2].map((i) => ({ id: `r${i}`, hall: 'h1', rated_kw: 6 })),
      devices: [
        { id: 'in-1', profile: 'eastron-sdm630', address: modbus(1), interval_s: 10, meter: { role: 'facility_in', rated_kw: 250 } },
        { id: 'feed-1', profile: 'wattnode-wnd', address: modbus(2), interval_s: 10, meter: { role: 'green_feed', rated_kw: 100 } },
        ...[1, 2].map((i) => ({ id: `pdu-${i}`, profile: 'apc-rpdu2', rack: `r${i}`, address: { protocol: 'snmp', host: '127.0.0.1', community: `pdu-${i}` }, interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: 6 } })),
      ],
    });
    const clock = new ManualClock(T0);
    const logger = memoryLogger();
    const msgs: KpiMessage[] = [];
    const collector = new Collector({ id: 'finite', inventories: [inventory], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink: new SqliteSink({ path: ':memory:', clock, logger }), clock, logger, kpiIntervalMs: 5000, onKpi: (m) => msgs.push(m) });
    const points = new Map(sitePowerModel(inventory, PROFILES).meters.map((m) => [m.device, m.power_point]));
    let seq = 0;
    const poll = (device: string, value: number) =>
      collector.ingest(
        topics.telemetry('s1', 'edge-1', device),
        Buffer.from(JSON.stringify({ schema: 1, agent: 'edge-1', site: 's1', device, class: device.startsWith('pdu') ? 'pdu' : 'meter', seq: ++seq, ts: clock.now(), readings: [{ point: points.get(device), value, unit: 'W', quality: 'good' }], poll: { ms: 20, requests: 1, retries: 0 } })),
      );
    const round = (it_w: number) => {
      clock.advance(10_000);
      poll('in-1', 8_000);
      poll('feed-1', 2_000);
      poll('pdu-1', it_w);
      poll('pdu-2', it_w);
      collector.evaluateKpis(clock.now());
      const m = msgs.at(-1)!;
      expect(KpiMessageSchema.parse(m)).toEqual(m);
      const pick = (kpi: string) => m.kpis.find((k) => k.kpi === kpi && k.window === 'instant')!;
      return { pue: pick('pue_live'), green: pick('green_share_live_ratio') };
    };

    const healthy = round(4_000);
    expect(healthy.pue).toMatchObject({ ok: true, value: 1.25 });

    const tiny = round(5e-324);
    expect(tiny.pue).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', reason_code: 'DCIM_E_KPI_NOT_FINITE' });
    expect(tiny.pue.value).toBeUndefined();
    expect(tiny.green).toMatchObject({ ok: true, value: 0.2 });

    const nearZero = round(0.01);
    expect(nearZero.pue).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_NOT_FINITE' });
    expect(nearZero.pue.reason).toContain(`above ${MAX_PUE}`);

    expect(round(4_000).pue).toMatchObject({ ok: true, value: 1.25 });
  });
});
