import { describe, expect, it } from 'vitest';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import type { KpiValue } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { createSiteModel } from '../../simulators/model/site.js';
import { TruthRecorder } from '../../simulators/truth/truth-recorder.js';
import { modelReadings } from './support/model-readings.js';
import { repoPath } from '../support/repo-path.js';

/**
 * The engine against the simulator's ground truth, in process: the demo seed's physical model is
 * stepped every 15 s for three hours and every device's quantities are fed as polls (what the
 * agent would publish, without protocols). The hourly and 15-minute energy PUE and the live
 * figures must equal the truth's (same boundaries, same IT level, same spreading of energy).
 */
describe('KpiEngine against simulator truth (demo seed)', () => {
  it('hourly and 15-minute PUE, live PUE and live green share equal the truth', () => {
    const inv = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
    const profiles = loadProfiles();
    const built = createSiteModel(inv, 7, { profiles });
    if (!built.ok) throw new Error(built.problems.join('\n'));
    const model = built.model;
    const T0 = Date.UTC(2026, 6, 10, 2); // 10:00 local on a July day: cooling works hard
    const STEP = 15_000;
    model.reset(T0 - STEP);
    const truth = new TruthRecorder({ model, inventory: inv });
    const engine = KpiEngine.create({ inventories: [inv], profiles });
    const END = T0 + 3 * 3_600_000 + 2 * STEP;
    for (let t = T0 - STEP; t <= END; t += STEP) {
      model.step(STEP);
      truth.record(t);
      for (const d of inv.devices) {
        engine.ingest(inv.site.id, d.id, t, modelReadings(model.quantities(d.id)!));
      }
    }
    const now = END;
    const t = truth.truth(now, { devices: false });
    const vals = engine.evaluate(inv.site.id, now);
    const pick = (kpi: string, window: string): KpiValue => vals.find((v) => v.kpi === kpi && v.window === window)!;

    const hour = pick('pue', '1h');
    const th = t.windows['1h'].find((w) => w.window_end === hour.window_end)!;
    expect(hour).toMatchObject({ ok: true, quality: 'measured', category: 2 });
    expect(hour.inputs!.facility_kwh).toBeCloseTo(th.facility_kwh, 2);
    expect(hour.inputs!.it_kwh).toBeCloseTo(th.it_kwh, 2);
    expect(hour.value).toBeCloseTo(th.pue!, 4);

    const q = pick('pue', '15m');
    const tq = t.windows['15m'].find((w) => w.window_end === q.window_end)!;
    expect(q.value).toBeCloseTo(tq.pue!, 4);

    expect(pick('pue_live', 'instant').value).toBeCloseTo(t.live.pue!, 3);
    // Live green share: the metered green supply now, on-site PV and the green feed.
    expect(pick('green_share_live_ratio', 'instant').value).toBeCloseTo(Math.min(1, (t.live.green_onsite_power_w + t.live.green_feed_power_w) / t.live.facility_power_w), 3);
    expect(t.live.green_feed_power_w).toBeGreaterThan(0);
    expect(engine.stats()).toMatchObject({ readings_invalid: 0, resets: 0, spikes: 0 });
  });
});
