import { describe, expect, it } from 'vitest';
import { UNITS, unitForName } from '../../contract/index.js';

describe('units', () => {
  it.each([
    ['active_power_w', 'W'],
    ['energy_kwh', 'kWh'],
    ['inlet_temp_c', 'degC'],
    ['apparent_power_va', 'VA'],
    ['power_factor_ratio', 'ratio'],
    ['gpu_utilisation_pct', '%'],
    ['phase_current_a', 'A'],
    ['frequency_hz', 'Hz'],
    ['memory_used_mib', 'MiB'],
    ['flow_m3h', 'm3/h'],
    ['load_state', undefined],
    ['model', undefined],
  ])('%s is in %s', (name, unit) => {
    expect(unitForName(name)).toBe(unit);
  });

  it('suffixes are unique', () => {
    const suffixes = Object.values(UNITS).map((u) => u.suffix);
    expect(new Set(suffixes).size).toBe(suffixes.length);
  });
});
