import { describe, expect, it } from 'vitest';
import type { DeviceProfile } from '../../../contract/index.js';
import { formatIssues } from '../../../shared/config/load.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { counterModuli } from '../../../simulators/faults/counter-limits.js';
import { FaultBook } from '../../../simulators/faults/fault-book.js';
import { DeviceFaultsSchema, FAULT_KINDS, FaultSpecSchema, FaultsFileSchema, type FaultSpec } from '../../../simulators/faults/fault-spec.js';
import { ANSWER_NOW, clockSkewMs, decideRequest } from '../../../simulators/faults/request-faults.js';
import { applyValueFaults, hasValueFaults, type ValueFault } from '../../../simulators/faults/value-faults.js';
import type { DeviceQuantities } from '../../../simulators/model/quantities.js';

const spec = (x: unknown): FaultSpec => FaultSpecSchema.parse(x);

/** A fixed sequence of draws, so chance is explicit in each row. */
const draws = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe('fault specs', () => {
  it('lists every kind the plan names', () => {
    expect([...FAULT_KINDS].sort()).toEqual(
      ['clock_skew', 'counter_reset', 'counter_rollover', 'equipment_failure', 'garbage', 'meter_swap', 'modbus_exception', 'offline', 'slow', 'stuck', 'timeout'].sort(),
    );
  });

  it('fills defaults', () => {
    expect(spec({ kind: 'slow', delay_ms: 500 })).toEqual({ kind: 'slow', delay_ms: 500, jitter_ms: 0 });
    expect(spec({ kind: 'modbus_exception', code: 'server_device_busy' })).toEqual({ kind: 'modbus_exception', code: 'server_device_busy', probability: 1 });
    expect(spec({ kind: 'counter_rollover' })).toEqual({ kind: 'counter_rollover', headroom_kwh: 1 });
  });

  it.each([
    [{ kind: 'offline', extra: 1 }, /Unrecognized key/],
    [{ kind: 'timeout', probability: 0 }, /expected number to be >0/i],
    [{ kind: 'timeout', probability: 1.5 }, /<=1/],
    [{ kind: 'slow' }, /delay_ms/],
    [{ kind: 'modbus_exception', code: 'busy' }, /code/],
    [{ kind: 'clock_skew', skew_s: 0 }, /a skew of 0 is no fault/],
    [{ kind: 'melting' }, /kind/],
    [{ kind: 'stuck', at_s: -1 }, /at_s/],
  ])('refuses %j', (input, message) => {
    const r = FaultSpecSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(formatIssues('f.yaml', r.error).join('\n')).toMatch(message);
  });

  it('allows one fault per kind per device, naming the path of the second', () => {
    const r = DeviceFaultsSchema.safeParse([{ kind: 'offline' }, { kind: 'stuck' }, { kind: 'offline' }]);
    expect(r.success).toBe(false);
    if (!r.success) expect(formatIssues('seed.yaml', r.error)).toEqual(['seed.yaml: [2].kind: a second offline fault; one per kind']);
  });

  it('reads a faults file with site sections', () => {
    const f = FaultsFileSchema.parse({ faults: { 'pdu-1': [{ kind: 'offline' }] }, sites: { guian: { 'm-1': [{ kind: 'stuck', at_s: 60 }] } } });
    expect(f.sites.guian?.['m-1']?.[0]).toEqual({ kind: 'stuck', at_s: 60 });
    expect(FaultsFileSchema.safeParse({ faults: { 'PDU 1': [] } }).success).toBe(false);
  });
});

describe('request decisions', () => {
  it.each<[string, unknown[], 'snmp' | 'modbus', number[], ReturnType<typeof decideRequest>]>([
    ['no faults', [], 'snmp', [0], ANSWER_NOW],
    ['offline', [{ kind: 'offline' }], 'modbus', [0], { action: 'drop', reason: 'offline' }],
    ['timeout hit', [{ kind: 'timeout', probability: 0.3 }], 'snmp', [0.29], { action: 'drop', reason: 'timeout' }],
    ['timeout missed', [{ kind: 'timeout', probability: 0.3 }], 'snmp', [0.3], ANSWER_NOW],
    ['slow with jitter', [{ kind: 'slow', delay_ms: 200, jitter_ms: 100 }], 'snmp', [0.5], { action: 'answer', delay_ms: 250 }],
    ['modbus exception', [{ kind: 'modbus_exception', code: 'server_device_busy' }], 'modbus', [0], { action: 'exception', code: 6, delay_ms: 0 }],
    ['modbus exception late', [{ kind: 'slow', delay_ms: 10 }, { kind: 'modbus_exception', code: 'illegal_data_address', probability: 0.5 }], 'modbus', [0.1], { action: 'exception', code: 2, delay_ms: 10 }],
    ['modbus exception ignored over SNMP', [{ kind: 'modbus_exception', code: 'server_device_busy' }], 'snmp', [0], ANSWER_NOW],
    ['value faults do not touch the request', [{ kind: 'stuck' }, { kind: 'garbage', probability: 1 }], 'modbus', [0], ANSWER_NOW],
  ])('%s', (_name, faults, protocol, rand, expected) => {
    expect(decideRequest(faults.map(spec), protocol, draws(...rand))).toEqual(expected);
  });

  it('reads the clock skew in ms', () => {
    expect(clockSkewMs([spec({ kind: 'clock_skew', skew_s: -90 })])).toBe(-90_000);
    expect(clockSkewMs([spec({ kind: 'offline' })])).toBe(0);
  });
});

const q = (energy: number, power: number, outletEnergy: number): DeviceQuantities => ({
  values: { active_power_w: power, energy_kwh: energy, load_state: 'normal' },
  rows: { outlet: new Map([[1, { outlet_power_w: power / 2, outlet_energy_kwh: outletEnergy }]]) },
});
const ctx = (modulus?: number, rand = draws(0)) => ({ counterModulus: () => modulus, rand });
const vf = (x: unknown, baseline?: DeviceQuantities): ValueFault => ({ spec: spec(x), baseline });

describe('value faults', () => {
  const base = q(1000, 500, 40);
  const now = q(1010, 520, 45);

  it.each<[string, ValueFault[], number | undefined, { energy: number; power: number; outlet: number }]>([
    ['none', [], undefined, { energy: 1010, power: 520, outlet: 45 }],
    ['counter reset counts from 0', [vf({ kind: 'counter_reset' }, base)], undefined, { energy: 10, power: 520, outlet: 5 }],
    ['meter swap counts from start_kwh', [vf({ kind: 'meter_swap', start_kwh: 3 }, base)], undefined, { energy: 13, power: 520, outlet: 8 }],
    ['rollover sits below the max, then wraps', [vf({ kind: 'counter_rollover', headroom_kwh: 6 }, base)], 2000, { energy: 4, power: 520, outlet: 1999 }],
    ['rollover without a modulus leaves the counter true', [vf({ kind: 'counter_rollover' }, base)], undefined, { energy: 1010, power: 520, outlet: 45 }],
    ['stuck serves the baseline, counters included', [vf({ kind: 'stuck' }, base)], undefined, { energy: 1000, power: 500, outlet: 40 }],
    ['stuck and reset: a reset meter that froze', [vf({ kind: 'stuck' }, base), vf({ kind: 'counter_reset' }, base)], undefined, { energy: 0, power: 500, outlet: 0 }],
  ])('%s', (_name, faults, modulus, expected) => {
    const out = applyValueFaults(now, faults, ctx(modulus));
    expect(out.values.energy_kwh).toBeCloseTo(expected.energy, 9);
    expect(out.values.active_power_w).toBe(expected.power);
    expect(out.rows.outlet?.get(1)?.outlet_energy_kwh).toBeCloseTo(expected.outlet, 9);
    expect(out.values.load_state).toBe('normal');
  });

  it('never changes the true quantities it is given', () => {
    const copy = structuredClone(now);
    applyValueFaults(now, [vf({ kind: 'counter_reset' }, base), vf({ kind: 'garbage' })], ctx(undefined, draws(0, 0.5)));
    expect(now).toEqual(copy);
  });

  it('garbles numbers, not names, in the share of ticks its probability says', () => {
    const garbled = applyValueFaults(now, [vf({ kind: 'garbage', probability: 0.5 })], ctx(undefined, draws(0.2, 0.99)));
    expect(garbled.values.active_power_w).toBe(520 * 65.535);
    expect(garbled.values.load_state).toBe('normal');
    const spared = applyValueFaults(now, [vf({ kind: 'garbage', probability: 0.5 })], ctx(undefined, draws(0.7)));
    expect(spared).toBe(now);
  });

  it('knows which kinds are value faults', () => {
    expect(hasValueFaults([vf({ kind: 'offline' }), vf({ kind: 'slow', delay_ms: 5 })])).toBe(false);
    expect(hasValueFaults([vf({ kind: 'meter_swap' })])).toBe(true);
  });
});

describe('counter moduli from profiles', () => {
  const profiles = loadProfiles();
  const apc = profiles.get('apc-rpdu2') as DeviceProfile;
  const sdm = profiles.get('eastron-sdm630') as DeviceProfile;

  it('uses the declared counter_max, and floats never wrap', () => {
    expect(counterModuli(apc).get('energy_kwh')).toBe(214748364.7);
    expect(counterModuli(sdm).has('energy_kwh')).toBe(false);
  });

  it('derives the wrap of an unsigned 32-bit register from its scale', () => {
    const p: DeviceProfile = {
      id: 'x',
      class: 'meter',
      vendor: 'v',
      model: 'm',
      protocol: 'modbus',
      quirks: { max_registers_per_read: 120, max_gap: 16, one_request_per_point: false, pause_between_requests_ms: 0 },
      test_vectors: [{ point: 'energy_kwh', raw: [0, 1], expected: 0.1 }],
      points: [{ name: 'energy_kwh', register: 'input', address: 0, type: 'uint32', order: 'ABCD', scale: 0.1, offset: 0 }],
    };
    expect(counterModuli(p).get('energy_kwh')).toBeCloseTo(429496729.6, 3);
  });
});

describe('fault book', () => {
  const START = 1_000_000;
  const capture = (device: string) => q(device === 'a' ? 100 : 7, 1, 1);

  it('activates a fault at once, with the baseline of that moment', () => {
    const book = new FaultBook(START);
    const t = book.put('s/a', spec({ kind: 'counter_reset' }), START + 5_000, () => capture('a'));
    expect(t.map((x) => [x.device, x.change, x.entry.spec.kind])).toEqual([['s/a', 'start', 'counter_reset']]);
    expect(book.active('s/a')[0]?.baseline?.values.energy_kwh).toBe(100);
    expect(book.activeSpecs('s/a')).toEqual([{ kind: 'counter_reset' }]);
    expect(book.active('s/b')).toEqual([]);
  });

  it('runs a scripted fault from at_s for for_s of simulated time', () => {
    const book = new FaultBook(START);
    expect(book.put('s/a', spec({ kind: 'offline', at_s: 60, for_s: 30 }), START, capture)).toEqual([]);
    expect(book.advance(START + 59_999, capture)).toEqual([]);
    expect(book.advance(START + 60_000, capture).map((x) => x.change)).toEqual(['start']);
    expect(book.activeSpecs('s/a')).toHaveLength(1);
    expect(book.advance(START + 90_000, capture).map((x) => x.change)).toEqual(['end']);
    expect(book.activeSpecs('s/a')).toEqual([]);
    expect(book.faultyDevices()).toEqual([]);
  });

  it('replaces a fault of the same kind and reports the old one ending', () => {
    const book = new FaultBook(START);
    book.put('s/a', spec({ kind: 'slow', delay_ms: 100 }), START, capture);
    const t = book.put('s/a', spec({ kind: 'slow', delay_ms: 900 }), START + 1, capture);
    expect(t.map((x) => [x.change, x.entry.spec])).toEqual([
      ['end', { kind: 'slow', delay_ms: 100, jitter_ms: 0 }],
      ['start', { kind: 'slow', delay_ms: 900, jitter_ms: 0 }],
    ]);
    expect(book.list('s/a')).toHaveLength(1);
  });

  it('removes one kind or all, ending only the active ones', () => {
    const book = new FaultBook(START);
    book.put('s/a', spec({ kind: 'stuck' }), START, capture);
    book.put('s/a', spec({ kind: 'offline', at_s: 3600 }), START, capture);
    book.put('s/a', spec({ kind: 'garbage' }), START, capture);
    expect(book.remove('s/a', 'garbage').map((x) => x.entry.spec.kind)).toEqual(['garbage']);
    expect(book.remove('s/a').map((x) => x.entry.spec.kind)).toEqual(['stuck']);
    expect(book.list('s/a')).toEqual([]);
    expect(book.remove('s/nobody')).toEqual([]);
  });
});
