/**
 * The contract telemetry message of one APC PDU poll (14 readings, ~1.3 KB as JSON) that the
 * collector-ingest benchmark publishes, and that it also feeds to a collector in-process to split
 * a message's CPU between mqtt.js, parsing and the rest of the collector.
 */
function reading(point: string, value: number | string, unit?: string, index?: Record<string, string>) {
  return { point, value, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) };
}

/** Device `pdu-<i>` of site `bench`, agent `bench-edge`, with the agent's `seq`, stamped now. */
export function pduPoll(i: number, seq: number) {
  const kw = 3 + (i % 7) * 0.5;
  return {
    schema: 1,
    agent: 'bench-edge',
    site: 'bench',
    device: `pdu-${i}`,
    class: 'pdu',
    seq,
    ts: Date.now(),
    readings: [
      reading('load_state', 'normal'),
      reading('active_power_w', kw * 1000, 'W'),
      reading('energy_kwh', 10_000 + seq * 0.01, 'kWh'),
      reading('apparent_power_va', kw * 1030, 'VA'),
      reading('power_factor_ratio', 0.97, 'ratio'),
      ...[1, 2, 3].flatMap((p) => [
        reading('phase_current_a', 4.3, 'A', { phase: String(p) }),
        reading('phase_voltage_v', 230, 'V', { phase: String(p) }),
        reading('phase_power_w', (kw * 1000) / 3, 'W', { phase: String(p) }),
      ]),
    ],
    poll: { ms: 4, requests: 2, retries: 0 },
  };
}
