import { describe, expect, it } from 'vitest';
import { acQuantities, loadState, pduQuantities, powerFactor, upsQuantities, upsRuntimeMin } from '../../../simulators/model/quantities.js';

const AC = { power_w: 6000, rated_w: 12_000, voltage_v: 220, frequency_hz: 50, phase_shares: [0.3, 0.33, 0.37], phase_voltage_offsets: [0, 0.01, -0.01] };

describe('quantities: device points the way real devices report them', () => {
  it.each([
    [0.01, 'low_load'],
    [0.5, 'normal'],
    [0.85, 'near_overload'],
    [1.2, 'overload'],
  ])('load ratio %d is APC load state %s', (ratio, state) => {
    expect(loadState(ratio)).toBe(state);
  });

  it('power factor stays within 0.93–0.98, better under load', () => {
    expect(powerFactor(-1)).toBeCloseTo(0.93, 9);
    expect(powerFactor(0.5)).toBeCloseTo(0.955, 9);
    expect(powerFactor(3)).toBeCloseTo(0.98, 9);
  });

  it('three phases: shares sum to the power, V·I·PF = W, VA·PF = W', () => {
    const { values, phases } = acQuantities(AC);
    let w = 0;
    for (const row of phases.values()) {
      w += row.phase_power_w as number;
      expect((row.phase_voltage_v as number) * (row.phase_current_a as number) * (values.power_factor_ratio as number)).toBeCloseTo(row.phase_power_w as number, 9);
    }
    expect(w).toBeCloseTo(6000, 9);
    expect((values.apparent_power_va as number) * (values.power_factor_ratio as number)).toBeCloseTo(6000, 9);
    expect(values.voltage_l2_v).toBeCloseTo(222.2, 9);
    expect(values.load_state).toBe('normal');
  });

  it('a PDU: outlets share the inlet power and energy; an unused outlet reads 0 and off', () => {
    const q = pduQuantities({ ...AC, energy_kwh: 1000, outlet_shares: [0.5, 0, 0.496] });
    const o = q.rows.outlet!;
    expect(o.get(1)).toMatchObject({ outlet_power_w: 3000, outlet_energy_kwh: 500, outlet_state: 'on' });
    expect(o.get(2)).toMatchObject({ outlet_power_w: 0, outlet_current_a: 0, outlet_state: 'off' });
    expect(q.values.energy_kwh).toBe(1000);
  });

  it('a UPS: output rows sum to its load, input carries the losses, runtime grows at part load', () => {
    const q = upsQuantities({ ...AC, power_w: 30_000, rated_w: 100_000, input_w: 31_500, battery_temp_c: 25 });
    let out = 0;
    let inp = 0;
    for (const row of q.rows.line!.values()) {
      out += row.output_power_w as number;
      inp += row.input_power_w as number;
      expect(row.output_load_pct as number).toBeGreaterThan(25);
    }
    expect(out).toBeCloseTo(30_000, 9);
    expect(inp).toBeCloseTo(31_500, 9);
    expect(q.values.output_load_pct).toBeCloseTo(30, 9);
    expect(upsRuntimeMin(1)).toBeCloseTo(15, 9);
    expect(upsRuntimeMin(0.3)).toBeGreaterThan(60);
    expect(upsRuntimeMin(0)).toBe(600);
  });
});
