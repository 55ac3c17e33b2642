// temporary diagnostic (not committed)
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { CollectorConfigSchema, type CollectorSetup } from '../collector/config.js';
import { recomputeStored } from '../collector/recompute/recompute-stored.js';
import type { StoredReadings } from '../collector/recompute/stored-polls.js';
import { SqliteSink } from '../collector/store/sqlite-sink.js';
import { KpiEngine } from '../collector/kpi-engine.js';
import { ManualClock } from '../contract/clock.js';
import { memoryLogger } from '../shared/log.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { guianSite, monthEnd, YEAR_START } from '../devtools/year-site.js';

const [storePath, devicesS, monthsS, snap] = process.argv.slice(2);
const devices = Number(devicesS), months = Number(monthsS);
const profiles = loadProfiles();
const site = guianSite(devices);
const config = CollectorConfigSchema.parse({ collector: { id: 'bench', sites: ['guian.yaml'] }, mqtt: { url: 'mqtt://127.0.0.1:1' }, store: { kind: 'sqlite', path: storePath, retention_days: 3650 } });
const setup: CollectorSetup = { file: 'bench.yaml', config, inventories: [site], clusters: [], deprecations: [] };
const clock = new ManualClock(monthEnd(12) + 86_400_000);
const store = new SqliteSink({ path: storePath!, clock, retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
const gc = (globalThis as any).gc as () => void;
let engine: any;
const origCreate = KpiEngine.create;
(KpiEngine as any).create = (o: any) => (engine = origCreate(o));
let nextMonth = 1;
const counts = () => {
  if (engine.heldState) return engine.heldState();
  const st = [...engine.sites.values()][0];
  return { emitted: engine.emitted.size, finalized: st.finalized.size, occCache: st.occupancyCache.size, dayWrites: st.dayWrites.size, gpus: st.gpus.size, cpus: st.cpus.size, power: st.power.size };
};
const reader: StoredReadings = {
  target: 'x',
  slice: (s, m, from, to) => {
    if (from >= monthEnd(nextMonth)) {
      gc();
      const h = process.memoryUsage();
      console.log(JSON.stringify({ month: nextMonth, heap_mib: +(h.heapUsed / 2 ** 20).toFixed(1), rss_mib: +(h.rss / 2 ** 20).toFixed(1), ext: +(h.external/2**20).toFixed(1), ...counts() }));
      if (snap && (nextMonth === 1 || nextMonth === 3)) writeHeapSnapshot(`/tmp/yrdiag/m${nextMonth}.heapsnapshot`);
      nextMonth++;
    }
    return Promise.resolve(store.rawRows(s, m, from, to));
  },
  close: () => Promise.resolve(),
};
import { createHash } from 'node:crypto';
const hash = createHash('sha256');
let pues = 0;
const r = await recomputeStored({ setup, site: site.site.id, from_ms: YEAR_START, to_ms: monthEnd(months), profiles, clock, logger: memoryLogger('warn'), reader, sink: store, keep_kpis: false, observe: (c) => { hash.update(JSON.stringify([c.scope, c.id, c.value])); if (c.value.kpi === 'pue') pues++; } });
gc();
console.log(JSON.stringify({ end: true, heap_mib: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1), held_peak: r.held_peak, hash: hash.digest('hex').slice(0, 16), recomputed: r.recomputed, ...counts(), windows: r.windows }));
