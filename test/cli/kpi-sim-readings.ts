import type { DeviceProfile, IndexTag, Reading, SiteInventory, TelemetryMessage } from '../../contract/index.js';
import { profileReadingRules } from '../../collector/ingest/profile-readings.js';
import { unitForName } from '../../contract/units.js';
import { createSiteModel } from '../../simulators/model/site.js';
import { TruthRecorder, type SiteTruth } from '../../simulators/truth/truth-recorder.js';

/**
 * Telemetry as the agent would publish it, straight from the simulator's physical model (no
 * protocols: this is about KPIs, not decoding), with the simulator's ground truth beside it.
 * Every device of the seed is polled every `step_s`: the points its profile names, with the
 * model's values (the model's vocabulary is the profiles' point names), table rows with their
 * index tags.
 */
export interface SimReadings {
  messages: TelemetryMessage[];
  truth: SiteTruth;
}

export function simulateReadings(inventory: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>, opts: { start_ms: number; duration_ms: number; step_s: number; seed?: number; agent?: string }): SimReadings {
  const built = createSiteModel(inventory, opts.seed ?? 7, { profiles });
  if (!built.ok) throw new Error(`simulator: ${built.problems.join('; ')}`);
  const model = built.model;
  const recorder = new TruthRecorder({ model, inventory });
  model.reset(opts.start_ms);
  recorder.record(opts.start_ms);
  const step = opts.step_s * 1000;
  const messages: TelemetryMessage[] = [];
  let seq = 1;
  const devices = inventory.devices.filter((d) => model.quantities(d.id) !== undefined);
  for (let ts = opts.start_ms; ts <= opts.start_ms + opts.duration_ms; ts += step) {
    if (ts > opts.start_ms) {
      model.step(step);
      recorder.record(ts);
    }
    for (const d of devices) {
      const q = model.quantities(d.id)!;
      const readings: Reading[] = [];
      const profile = profiles.get(d.profile);
      // The agent publishes the profile's points only, each where the profile puts it (a scalar or
      // a table row) and as the decoders type it (a coil or a bit is a boolean).
      const rules = profile ? profileReadingRules(profile) : undefined;
      const push = (point: string, value: number | string, index?: Partial<Record<IndexTag, string>>) => {
        const kinds = rules?.points.get(point)?.get(index ? Object.keys(index)[0]! : '');
        if (rules && !kinds) return;
        const typed = kinds?.has('boolean') && typeof value === 'number' ? value !== 0 : value;
        const unit = unitForName(point);
        readings.push({ point, value: typed, quality: 'good', ...(unit !== undefined ? { unit } : {}), ...(index ? { index } : {}) });
      };
      for (const [point, value] of Object.entries(q.values)) push(point, value);
      for (const [tag, rows] of Object.entries(q.rows) as [IndexTag, ReadonlyMap<number, Readonly<Record<string, number | string>>>][]) {
        for (const [i, row] of rows) for (const [point, value] of Object.entries(row)) push(point, value, { [tag]: String(i) });
      }
      const cls = profile?.class ?? 'generic';
      messages.push({ schema: 1, agent: opts.agent ?? 'edge-1', site: inventory.site.id, device: d.id, class: cls, seq: seq++, ts, readings, poll: { ms: 20, requests: 1, retries: 0 } });
    }
  }
  return { messages, truth: recorder.truth(undefined, { devices: false, limit: { '15m': 400, '1h': 100, '1d': 10 } }) };
}
