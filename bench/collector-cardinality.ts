/**
 * Collector memory under a cardinality flood (printed figures, not a timed test).
 *
 *   node --expose-gc --import tsx bench/collector-cardinality.ts [--series 1000000] [--rounds 3] [--per-message 500] [--profiles 1|0]
 *
 * The demo site with its profiles; the real agent polls every device every 10 s (simulated
 * clock) while a peer that holds the agent's id (the worst case: an open site, or a stolen
 * identity) floods `--series` forged series with plausible seqs: half as point names no profile
 * has, half as new outlet index values of a real table point, plus wrong-typed values. The
 * collector is driven through `ingest` (the broker adds nothing to memory here). Printed: RSS
 * and heap before, after the real traffic, after the flood (after GC), what the collector
 * refused, by code, and that the real agent's readings kept being accepted.
 *
 * With `--profiles 0` the collector runs without profiles (no point check): the series bounds
 * (1,024 point names and 256 values per index tag per device, 250,000 latest values) still hold.
 */
import { join } from 'node:path';
import { Collector } from '../collector/collector.js';
import { CountingSink } from './support/counting-sink.js';
import { ManualClock } from '../contract/clock.js';
import { SiteInventorySchema } from '../contract/inventory.js';
import { loadYamlFile } from '../shared/config/load.js';
import { createLogger } from '../shared/log.js';
import type { Reading } from '../contract/messages.js';
import { profilePoints } from '../contract/profile.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { topics } from '../contract/topics.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SERIES = arg('series', 1_000_000);
const PER_MESSAGE = arg('per-message', 500);
const WITH_PROFILES = arg('profiles', 1) === 1;

const inv = loadYamlFile(SiteInventorySchema, join(import.meta.dirname, '../seeds/demo.yaml'));
const profiles = loadProfiles();
const agent = inv.site.agent ?? 'edge-1';
const clock = new ManualClock(Date.UTC(2026, 5, 1));
const sink = new CountingSink();
// Warnings are the point of the flood; the bench counts the lines instead of printing them.
let logLines = 0;
const logger = createLogger({ level: 'warn', sink: () => void logLines++ });
const collector = new Collector({ id: 'bench', inventories: [inv], ...(WITH_PROFILES ? { profiles } : {}), mqtt: { url: 'mqtt://127.0.0.1:1' }, sink, clock, logger });

let seq = 1;
const send = (device: string, cls: string, readings: unknown[]) =>
  collector.ingest(topics.telemetry(inv.site.id, agent, device), Buffer.from(JSON.stringify({ schema: 1, agent, site: inv.site.id, device, class: cls, seq: seq++, ts: clock.now(), readings, poll: { ms: 20, requests: 1, retries: 0 } })));

const classOf = (profile: string) => profiles.get(profile)?.class ?? 'generic';
// The real agent: every device whose profile has a scalar active power, polled every 10 s.
const metered = inv.devices.filter((d) => { const p = profiles.get(d.profile); return p !== undefined && profilePoints(p).some((x) => x.name === 'active_power_w' && x.index_tag === undefined); });
const real = (): Reading[] => [{ point: 'active_power_w', value: 4000 + Math.random() * 100, unit: 'W', quality: 'good' }];
let realSent = 0;
let realAccepted = 0;
const realPoll = () => {
  for (const d of metered) {
    const before = collector.stats().readings_accepted;
    send(d.id, classOf(d.profile), real());
    realSent++;
    realAccepted += collector.stats().readings_accepted - before;
  }
};

const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const mem = (label: string) => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  console.log(`${label.padEnd(34)} rss ${mb(m.rss).padStart(7)}  heap used ${mb(m.heapUsed).padStart(7)}`);
  return m.rss;
};

const rss0 = mem('start');
for (let i = 0; i < 30; i++) {
  realPoll();
  clock.advance(10_000);
}
const rssReal = mem('after 5 min of real polls');

const pdu = inv.devices.find((d) => classOf(d.profile) === 'pdu')!;
const ROUNDS = arg('rounds', 3);
let sent = 0;
let floodMs = 0;
const rssRounds: number[] = [];
// Each round forges SERIES new series; RSS must level off, not grow with every round.
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  const end = sent + SERIES;
  for (let m = 0; sent < end; m++) {
    const readings: unknown[] = [];
    for (let k = 0; k < PER_MESSAGE && sent < end; k++, sent++) {
      readings.push(
        sent % 2 === 0
          ? { point: `forged_${sent}_w`, value: 1, unit: 'W', quality: 'good' }
          : sent % 3 === 0
            ? { point: 'load_state', value: sent, quality: 'good' }
            : { point: 'outlet_power_w', value: 1, unit: 'W', quality: 'good', index: { outlet: String(1000 + sent) } },
      );
    }
    send(pdu.id, classOf(pdu.profile), readings);
    // The real agent goes on polling meanwhile.
    if (m % 20 === 0) {
      realPoll();
      clock.advance(10_000);
    }
  }
  floodMs += performance.now() - t0;
  rssRounds.push(mem(`after ${((round + 1) * SERIES).toLocaleString('en')} forged series`));
}
const rssFlood = Math.max(...rssRounds);
for (let i = 0; i < 6; i++) {
  realPoll();
  clock.advance(10_000);
}
const s = collector.stats();
console.log(`flood ingested in ${(floodMs / 1000).toFixed(1)} s; profiles ${WITH_PROFILES ? 'on' : 'off'}`);
console.log(`RSS growth: real traffic ${mb(rssReal - rss0)}, flood (highest after any round) ${mb(rssFlood - rssReal)}; per round: ${rssRounds.map((r) => mb(r - rssReal)).join(', ')}`);
console.log('refused by code', s.invalid_by_code);
console.log('series_refused', s.series_refused, 'latest_refused', s.latest_refused, 'log lines written', logLines, 'suppressed', s.log_lines_suppressed);
console.log(`real readings accepted: ${realAccepted} of ${realSent}; messages refused whole: ${s.messages_invalid}; forged readings accepted: ${collector.stats().readings_accepted - realAccepted}`);
