import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiValue, TelemetryMessage } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { RecordingSink } from '../support/recording-sink.js';
import { until } from '../../support/until.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * QoS 1 delivers at least once and an agent replays its spool after an outage: energy must never
 * be counted twice (docs/design.md §2). Telemetry of the two-meter seed (an incomer at 10 kW, an IT PDU
 * at 8 kW, cumulative kWh counters, every 5 s) goes through a real mosquitto once, then a third of
 * it again (redeliveries) and the first minutes once more after everything (a late spool replay).
 * The 15-minute energy PUE must be exactly 2.5 kWh / 2.0 kWh = 1.25, and every KPI line the
 * collector writes must be byte-identical to those of a second collector fed each message once.
 */
const SEED = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));
const PROFILES = loadProfiles();
// 08:00 UTC = 16:00 in Asia/Shanghai: a quarter-hour boundary in the site's time zone.
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const STEP_MS = 5000;
const FROM = T0 - 20 * 60_000;
const TO = T0 + 2 * 60_000;

function messages(): TelemetryMessage[] {
  const out: TelemetryMessage[] = [];
  let seq = 100;
  const devices = [
    { device: 'meter-incomer-1', class: 'meter' as const, kw: 10, kwh0: 5000 },
    { device: 'pdu-r01-a', class: 'pdu' as const, kw: 8, kwh0: 1200 },
  ];
  for (let ts = FROM; ts <= TO; ts += STEP_MS) {
    for (const d of devices) {
      const kwh = d.kwh0 + (d.kw * (ts - FROM)) / 3_600_000;
      out.push({
        schema: 1,
        agent: 'edge-1',
        site: 'demo',
        device: d.device,
        class: d.class,
        seq: seq++,
        ts: ts + (d.class === 'pdu' ? 40 : 0),
        readings: [
          { point: 'active_power_w', value: d.kw * 1000, unit: 'W', quality: 'good' },
          { point: 'energy_kwh', value: Math.round(kwh * 1e6) / 1e6, unit: 'kWh', quality: 'good' },
        ],
        poll: { ms: 12, requests: 1, retries: 0 },
      });
    }
  }
  return out;
}

const find = (kpis: readonly KpiValue[], kpi: string, window: string) => kpis.find((k) => k.kpi === kpi && k.window === window);

describe('duplicated and replayed telemetry through mosquitto, with the KPI engine', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('counts energy once: the 15-minute PUE is exact and both collectors write byte-identical KPI lines', async () => {
    const all = messages();
    const clock = new ManualClock(TO);
    const sink = new RecordingSink();
    const collector = new Collector({ id: 'replay', inventories: [SEED], profiles: PROFILES, mqtt: { url: broker().url }, sink, clock, logger: memoryLogger(), kpiIntervalMs: 3_600_000 });
    await collector.start();
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-edge-1', protocolVersion: 4, clean: false });
    const redelivered = all.filter((_, i) => i % 3 === 1);
    const replayed = all.slice(0, 40);
    try {
      const send = (ms: readonly TelemetryMessage[]) => Promise.all(ms.map((m) => agent.publishAsync(topics.telemetry(m.site, m.agent, m.device), JSON.stringify(m), { qos: 1 })));
      await send(all);
      await send(redelivered);
      await send(replayed);
      const total = all.length + redelivered.length + replayed.length;
      await until(`${total} messages`, () => collector.stats().messages_received === total, 60_000);
    } finally {
      await agent.endAsync();
    }
    expect(collector.stats()).toMatchObject({ messages_invalid: 0, duplicates: redelivered.length + replayed.length, readings_accepted: all.length * 2, handler_errors: 0 });

    // The reference: a second collector, each message exactly once, in order, no broker.
    const refSink = new RecordingSink();
    const reference = new Collector({ id: 'reference', inventories: [SEED], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink: refSink, clock, logger: memoryLogger() });
    for (const m of all) reference.ingest(topics.telemetry(m.site, m.agent, m.device), Buffer.from(JSON.stringify(m)));
    expect(reference.stats().duplicates).toBe(0);

    // Past the quarter hour ending at T0 and its settle time.
    const at = T0 + 90_000;
    collector.evaluateKpis(at);
    reference.evaluateKpis(at);
    await collector.stop();

    const pue15 = find(collector.latestKpi('demo')!.kpis, 'pue', '15m');
    expect(pue15).toMatchObject({ ok: true, value: 1.25, quality: 'measured', window_start: T0 - 15 * 60_000, window_end: T0, category: 2 });
    expect(pue15!.inputs).toMatchObject({ facility_kwh: 2.5, facility_measured_kwh: 2.5, facility_substituted_kwh: 0, it_kwh: 2, it_measured_kwh: 2, it_substituted_kwh: 0 });
    expect(collector.latestKpi('demo')!.kpis).toEqual(reference.latestKpi('demo')!.kpis);

    const kpiLines = sink.of('kpi');
    expect(kpiLines.length).toBeGreaterThan(5);
    expect(kpiLines).toEqual(refSink.of('kpi'));
    expect(kpiLines.find((l) => l.includes('kpi=pue,') && l.includes('window=15m') && l.endsWith(` ${T0}`))).toBe(
      `kpi,basis=energy,category=2,kpi=pue,site=demo,window=15m anomalies=0,coverage=1,facility_coverage=1,facility_kwh=2.5,facility_measured_kwh=2.5,facility_substituted_kwh=0,inputs_version=2i,it_coverage=1,it_kwh=2,it_measured_kwh=2,it_substituted_kwh=0,ok=true,quality="measured",quality_rank=3i,status="amber",substituted_ratio=0,target=1.2,value=1.25,window_start_ms=${T0 - 15 * 60_000}i ${T0}`,
    );
    // Raw readings are written once per accepted message, never for a duplicate.
    expect(sink.of('meter')).toHaveLength(all.length / 2);
  });
});
