import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bureau } from '../../../collector/bureau/bureau.js';
import { SqliteSummaries } from '../../../collector/federation/stored-summaries.js';
import { SummarySiteSource } from '../../../collector/federation/summary-source.js';
import { clusterKpis, siteKpis } from '../../../collector/kpi/site-kpis.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import type { AlertMessage, KpiValue } from '../../../contract/messages.js';
import { SUMMARY_MEASUREMENT } from '../../../contract/storage-schema.js';
import { MAX_SUMMARY_BYTES, type SiteSummary } from '../../../contract/summary.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { CLUSTER, NOW, SETTLE, SITES, threeSites, TO } from './three-sites.js';

const TOKEN = 'bureau-test-token-0123456789';
const TICK = 15_000;
const QUARTER = 900_000;
const key = (v: KpiValue) => `${v.kpi}|${v.window}|${v.basis}`;
const byKey = (vals: readonly KpiValue[]) => new Map(vals.map((v) => [key(v), v]));

async function get(base: string, p: string): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  return { status: res.status, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

/** The same summaries in fresh sources: what clusterKpis says of them, independent of the bureau. */
function reference(summaries: readonly SiteSummary[]): Map<string, SummarySiteSource> {
  const out = new Map<string, SummarySiteSource>();
  for (const s of summaries) {
    let src = out.get(s.site);
    if (!src) out.set(s.site, (src = new SummarySiteSource(s.site, s.timezone)));
    src.put(s);
  }
  return out;
}

describe('dcim bureau: site summaries through a real mosquitto into site and cluster figures', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const world = threeSites();
  const dir = mkdtempSync(path.join(tmpdir(), 'dcim-bureau-'));
  const file = path.join(dir, 'bureau.sqlite');
  const clock = new ManualClock(NOW - 5_000);
  const logger = memoryLogger();
  let sink: SqliteSink;
  let bureau: Bureau;
  let site: MqttClient;
  const publish = async (topic: string, payload: string | Buffer) => site.publishAsync(topic, payload, { qos: 1 });
  const received = () => bureau.stats().summaries_received;

  beforeAll(async () => {
    sink = new SqliteSink({ path: file, clock, logger: memoryLogger() });
    bureau = new Bureau({ id: 'b1', clusters: [CLUSTER], mqtt: { url: broker().url, clientId: 'bureau-b1' }, sink, clock, logger, tickMs: TICK, settleMs: SETTLE, silentAfterWindows: 4, maxSkewMs: 300_000, stored: new SqliteSummaries(sink), http: { host: '127.0.0.1', port: 0, token: TOKEN } });
    await bureau.start();
    site = await mqtt.connectAsync(broker().url, { clientId: 'site-bridge', protocolVersion: 5 });
  });
  afterAll(async () => {
    await site?.endAsync(true);
    await bureau?.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the cluster roll-up clusterKpis computes over the same summaries, and the one an engine fed all raw telemetry computes", async () => {
    for (const s of world.sent) await publish(topics.summary(s.site, s.window), JSON.stringify(s));
    await until('every summary taken', () => received() === world.sent.length, 60_000, () => JSON.stringify(bureau.stats()));
    const stats = bureau.stats();
    expect(stats.summaries_refused).toBe(0);
    expect(stats.summaries_stored + stats.summaries_revised).toBe(world.sent.length);
    clock.advance(5_000); // the tick at NOW
    const api = (await get(bureau.httpUrl!, '/api/clusters/c1/kpi')).body as { cluster: string; ts: number; kpis: KpiValue[] };
    expect(api.ts).toBe(NOW);
    const refs = reference(world.sent);
    const expected = clusterKpis(CLUSTER, SITES.map((s) => refs.get(s)!), [], NOW, SETTLE);
    expect(api.kpis).toEqual(JSON.parse(JSON.stringify(expected)));

    const fromEngine = world.engine.evaluateCluster('c1', NOW).filter((v) => !v.kpi.endsWith('_live_ratio') && v.kpi !== 'pue_live' && !(v.window === 'instant' && (v.kpi === 'pue' || v.kpi.startsWith('green_share'))));
    expect(fromEngine.length).toBeGreaterThan(25);
    const got = byKey(api.kpis);
    for (const v of fromEngine) expect(got.get(key(v)), key(v)).toEqual(JSON.parse(JSON.stringify(v)));
    expect(got.get('pue|1d|energy_weighted')).toMatchObject({ ok: true });

    // Each site as its own engine evaluates it, and written to the store in the collector's kpi format.
    for (const s of SITES) {
      const siteApi = (await get(bureau.httpUrl!, `/api/sites/${s}/kpi?window=1d,1mo`)).body as { kpis: KpiValue[] };
      const engineDay = world.engine.evaluate(s, NOW).filter((v) => v.window === '1d' || v.window === '1mo');
      expect(siteApi.kpis).toEqual(JSON.parse(JSON.stringify(engineDay)));
    }
    await sink.flush();
    const stored = sink.latestKpis('c1').find((r) => r.kpi === 'pue' && r.window === '1d' && r.basis === 'energy_weighted');
    expect(stored?.value).toBe(got.get('pue|1d|energy_weighted')!.value);
    const bureauSites = (await get(bureau.httpUrl!, '/api/bureau/sites')).body as { sites: { site: string; newest_window_end: number; silent: boolean; accepted: { stored: number } }[] };
    expect(bureauSites.sites.map((x) => x.site).sort()).toEqual([...SITES]);
    for (const x of bureauSites.sites) expect(x).toMatchObject({ newest_window_end: TO - (TO % QUARTER), silent: false });
  });

  it('refuses every bad summary with its code and counter, and no stored figure changes', async () => {
    const base = world.sent.find((s) => s.site === 'hs' && s.window === '15m')!;
    const day = world.sent.find((s) => s.site === 'hs' && s.window === '1d')!;
    const month = world.sent.find((s) => s.site === 'hs' && s.window === '1mo')!;
    const future = Math.floor((NOW + 3_600_000) / QUARTER) * QUARTER;
    const with_ = (s: SiteSummary, over: Partial<SiteSummary>) => JSON.stringify({ ...s, ...over });
    const cases: [string, string, string | Buffer, string][] = [
      ['too large', topics.summary('hs', '15m'), Buffer.alloc(MAX_SUMMARY_BYTES + 1, 0x20), 'DCIM_E_SUMMARY_INVALID'],
      ['not JSON', topics.summary('hs', '15m'), '{"schema":1,', 'DCIM_E_SUMMARY_INVALID'],
      ['schema', topics.summary('hs', '15m'), JSON.stringify({ ...base, groups: undefined }), 'DCIM_E_SUMMARY_INVALID'],
      ['15m of 20 minutes', topics.summary('hs', '15m'), with_(base, { window_end: base.window_start + 20 * 60_000 }), 'DCIM_E_SUMMARY_INVALID'],
      ['15m unaligned', topics.summary('hs', '15m'), with_(base, { window_start: base.window_start + 60_000, window_end: base.window_end + 60_000 }), 'DCIM_E_SUMMARY_INVALID'],
      ["a day's wrong period", topics.summary('hs', '1d'), with_(day, { period: '2026-01-02', revision: day.revision + 1 }), 'DCIM_E_SUMMARY_INVALID'],
      ['a month of 30 days', topics.summary('hs', '1mo'), with_(month, { window_end: month.window_end - 86_400_000, revision: month.revision + 1 }), 'DCIM_E_SUMMARY_INVALID'],
      ['more meter-time than meters', topics.summary('hs', '15m'), with_(base, { revision: base.revision + 1, groups: { ...base.groups, it: { ...base.groups.it, covered_ms: (base.groups.it.meters + 1) * QUARTER } } }), 'DCIM_E_SUMMARY_IMPOSSIBLE'],
      ['more racks on than available', topics.summary('hs', '1d'), with_(day, { revision: day.revision + 1, occupancy: { ...day.occupancy!, racks_on: day.occupancy!.racks_available + 1 } }), 'DCIM_E_SUMMARY_IMPOSSIBLE'],
      ['a time zone that changed', topics.summary('hs', '15m'), with_(base, { timezone: 'Europe/Berlin', revision: base.revision + 1 }), 'DCIM_E_SUMMARY_IMPOSSIBLE'],
      ['a site in no cluster', topics.summary('zz', '15m'), with_(base, { site: 'zz' }), 'DCIM_E_SUMMARY_UNKNOWN_SITE'],
      ["another site's topic", topics.summary('hs2', '15m'), with_(base, { revision: base.revision + 1 }), 'DCIM_E_SUMMARY_TOPIC_MISMATCH'],
      ["another window's topic", topics.summary('hs', '1h'), with_(base, { revision: base.revision + 1 }), 'DCIM_E_SUMMARY_TOPIC_MISMATCH'],
      ['a window in the future', topics.summary('hs', '15m'), with_(base, { window_start: future - QUARTER, window_end: future }), 'DCIM_E_SUMMARY_AHEAD'],
      ['generated in the future', topics.summary('hs', '15m'), with_(base, { revision: base.revision + 1, generated_ms: NOW + 3_600_000, groups: { ...base.groups, it: { ...base.groups.it, kwh: 1 } } }), 'DCIM_E_SUMMARY_AHEAD'],
      ['an older revision with other content', topics.summary('hs', '15m'), with_(base, { revision: base.revision - 1, groups: { ...base.groups, it: { ...base.groups.it, kwh: 1 } } }), 'DCIM_E_SUMMARY_STALE_REVISION'],
      ['the same revision with other content', topics.summary('hs', '15m'), with_(base, { groups: { ...base.groups, it: { ...base.groups.it, kwh: 1 } } }), 'DCIM_E_SUMMARY_STALE_REVISION'],
    ];
    await sink.flush();
    const rowsBefore = sink.series({ measurement: SUMMARY_MEASUREMENT, field: 'body', since_ms: 0 });
    const before = bureau.stats();
    const sourcesBefore = SITES.map((s) => siteKpis(bureau.siteSource(s)!, NOW, SETTLE));
    for (const [, topic, payload] of cases) await publish(topic, payload);
    await until('every bad summary seen', () => received() === before.summaries_received + cases.length, 60_000, () => JSON.stringify(bureau.stats()));

    const after = bureau.stats();
    const want: Record<string, number> = {};
    for (const [, , , code] of cases) want[code] = (want[code] ?? 0) + 1;
    expect(after.refused_by_code).toEqual(want);
    expect(after.summaries_refused - before.summaries_refused).toBe(cases.length);
    expect([after.summaries_stored, after.summaries_revised, after.summaries_unchanged]).toEqual([before.summaries_stored, before.summaries_revised, before.summaries_unchanged]);
    const metrics = (await get(bureau.httpUrl!, '/metrics')).text;
    for (const [code, n] of Object.entries(want)) expect(metrics).toContain(`dcim_bureau_refused_total{code="${code}"} ${n}`);
    // Nothing held, evaluated or stored moved.
    expect(SITES.map((s) => siteKpis(bureau.siteSource(s)!, NOW, SETTLE))).toEqual(sourcesBefore);
    bureau.tick(NOW + TICK);
    expect(bureau.stats().kpi_points_written).toBe(before.kpi_points_written);
    await sink.flush();
    expect(sink.series({ measurement: SUMMARY_MEASUREMENT, field: 'body', since_ms: 0 })).toEqual(rowsBefore);
    const refusedSite = ((await get(bureau.httpUrl!, '/api/bureau/sites')).body as { sites: { site: string; refused: Record<string, number> }[] }).sites.find((x) => x.site === 'hs')!;
    expect(refusedSite.refused.DCIM_E_SUMMARY_STALE_REVISION).toBe(2);
  });

  it('alerts a site that has sent nothing for silent_after_windows quarter hours, and resolves when it reports again', async () => {
    const alerts = async () => ((await get(bureau.httpUrl!, '/api/alerts?rule=site_silent')).body as { alerts: AlertMessage[] }).alerts;
    // The newest windows end at TO's quarter; four quarter hours later every site is silent.
    const newest = TO - (TO % QUARTER);
    clock.set(newest + 4 * QUARTER - TICK);
    expect((await alerts()).filter((a) => a.state === 'firing')).toEqual([]);
    clock.advance(TICK);
    expect((await alerts()).filter((a) => a.state === 'firing').map((a) => a.site)).toEqual([...SITES]);
    expect(logger.lines.filter((l) => l.code === 'DCIM_E_SITE_SILENT' && String(l.msg).startsWith('site silent')).length).toBe(3);
    // hs reports its next hour: resolved; the others stay silent; each transition logged once.
    const fresh = world.extend('hs', newest + 4 * QUARTER);
    expect(fresh.length).toBeGreaterThanOrEqual(3);
    const seen = received();
    for (const s of fresh) await publish(topics.summary(s.site, s.window), JSON.stringify(s));
    await until('fresh summaries taken', () => received() === seen + fresh.length);
    clock.advance(TICK);
    clock.advance(TICK);
    const now = await alerts();
    expect(now.find((a) => a.site === 'hs')).toMatchObject({ state: 'resolved', labels: { code: 'DCIM_E_SITE_SILENT' } });
    expect(now.filter((a) => a.state === 'firing').map((a) => a.site)).toEqual(['hs2', 'hs3']);
    expect(logger.lines.filter((l) => l.code === 'DCIM_E_SITE_SILENT').length).toBe(4);
    expect(bureau.stats().sites_silent).toBe(2);
    expect((await get(bureau.httpUrl!, '/metrics')).text).toContain('dcim_bureau_site_silent{site="hs2"} 1');
  });

  it('keeps its figures across a restart: the summaries are read back from its store', async () => {
    const at = clock.now() - (clock.now() % TICK) + TICK;
    const before = clusterKpis(CLUSTER, SITES.map((s) => bureau.siteSource(s)!), [], at, SETTLE);
    await bureau.stop();
    await sink.close();
    sink = new SqliteSink({ path: file, clock, logger: memoryLogger() });
    bureau = new Bureau({ id: 'b1', clusters: [CLUSTER], mqtt: { url: broker().url, clientId: 'bureau-b1' }, sink, clock, logger: memoryLogger(), tickMs: TICK, settleMs: SETTLE, silentAfterWindows: 4, maxSkewMs: 300_000, stored: new SqliteSummaries(sink), http: { host: '127.0.0.1', port: 0, token: TOKEN } });
    await bureau.start();
    expect(bureau.stats().summaries_restored).toBeGreaterThan(0);
    clock.set(at);
    const api = (await get(bureau.httpUrl!, '/api/clusters/c1/kpi')).body as { ts: number; kpis: KpiValue[] };
    expect(api.ts).toBe(at);
    expect(api.kpis).toEqual(JSON.parse(JSON.stringify(before)));
    // Figures, not only their absence: the day and hour before are measured again.
    expect(api.kpis.filter((v) => v.ok).length).toBeGreaterThan(5);
  });
});
