import { SiteInventorySchema } from '../contract/index.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { GUIAN, bigSite, type HallSpec } from '../seeds/generate.js';
import { createSiteModel } from '../simulators/model/site.js';
import { TruthRecorder } from '../simulators/truth/truth-recorder.js';

/**
 * Scale of the physical model and the truth recorder at ≈10,000 devices in one process:
 * memory they hold, time per model step, per quantities() call, per record() and truth().
 * Run: `npx tsx bench/model-scale.ts` (prints a table; not a test, timings vary by machine).
 */

const HALLS = Number(process.argv[2] ?? 20);
const halls: HallSpec[] = Array.from({ length: HALLS }, (_, h) => ({ ...GUIAN.halls[h % 2]!, id: `h${h + 1}`, name: `Hall ${h + 1}` }));
const doc = bigSite({ ...GUIAN, id: 'scale', halls });
const { header: _header, ...body } = doc;
const inventory = SiteInventorySchema.parse(body);
const profiles = loadProfiles();

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
// Run with `node --expose-gc` for stable numbers; typed arrays count in arrayBuffers.
const mem = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const before = mem();
let t = performance.now();
const built = createSiteModel(inventory, 1, { profiles });
if (!built.ok) throw new Error(built.problems.join('\n'));
const model = built.model;
model.reset(Date.UTC(2026, 6, 15, 4));
const buildMs = performance.now() - t;
const afterModel = mem();
const recorder = new TruthRecorder({ model, inventory });
recorder.record(Date.UTC(2026, 6, 15, 4) - 1000);
const afterRecorder = mem();

const STEPS = 600;
t = performance.now();
for (let i = 0; i < STEPS; i++) model.step(1000);
const stepMs = (performance.now() - t) / STEPS;

t = performance.now();
for (let i = 0; i < STEPS; i++) {
  model.step(1000);
  recorder.record(Date.UTC(2026, 6, 15, 4) + i * 1000);
}
const stepRecordMs = (performance.now() - t) / STEPS;
const recordMs = stepRecordMs - stepMs;

t = performance.now();
let n = 0;
for (const id of model.deviceIds) {
  model.quantities(id);
  n++;
}
const quantitiesUs = ((performance.now() - t) / n) * 1000;

t = performance.now();
const truth = recorder.truth();
const json = JSON.stringify(truth);
const truthMs = performance.now() - t;
const afterRun = mem();

const kinds: Record<string, number> = {};
for (const id of model.deviceIds) kinds[model.kind(id)!] = (kinds[model.kind(id)!] ?? 0) + 1;
const rows: [string, string][] = [
  ['devices (modelled)', `${model.deviceIds.length} ${JSON.stringify(kinds)}`],
  ['racks', String(inventory.racks.length)],
  ['build + reset', `${buildMs.toFixed(0)} ms`],
  ['model memory', mb(afterModel - before)],
  ['truth recorder memory (128 served states, 400 days of 15-min buckets)', mb(afterRecorder - afterModel)],
  ['heap + buffers after the run', mb(afterRun)],
  ['model step (1 s simulated)', `${stepMs.toFixed(2)} ms`],
  ['record() per served state', `${recordMs.toFixed(2)} ms`],
  ['quantities() per device, mean', `${quantitiesUs.toFixed(1)} µs`],
  ['truth() + JSON.stringify', `${truthMs.toFixed(0)} ms, ${mb(json.length)}`],
  ['site PUE now', truth.live.pue?.toFixed(3) ?? 'n/a'],
];
for (const [k, v] of rows) console.log(`${k.padEnd(72)} ${v}`);
