/**
 * Child process of bench/collector-ingest.ts: publishes contract telemetry messages (QoS 1) for
 * `devices` APC PDUs of site `bench`, either as fast as the broker takes them (`rate` 0) or paced
 * at `rate` messages per second. Each message is stamped with the publish time, so the receiver
 * can measure delivery latency. Prints one JSON line when done.
 *
 *   node --import tsx bench/support/telemetry-publisher.ts <url> <devices> <messages> <rate>
 */
import { connect } from 'mqtt';
import { topics } from '../../contract/topics.js';

const [url = 'mqtt://127.0.0.1:1883', devicesArg = '10000', messagesArg = '100000', rateArg = '0'] = process.argv.slice(2);
const devices = Number(devicesArg);
const messages = Number(messagesArg);
const rate = Number(rateArg);

function reading(point: string, value: number | string, unit?: string, index?: Record<string, string>) {
  return { point, value, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) };
}

function message(i: number, seq: number) {
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

const client = connect(url, { clientId: `bench-pub-${process.pid}`, clean: true, reconnectPeriod: 0 });
await new Promise<void>((resolve, reject) => {
  client.once('connect', () => resolve());
  client.once('error', reject);
});
const started = Date.now();
const WINDOW = 256;
let inFlight = 0;
let sent = 0;
let acked = 0;
await new Promise<void>((resolve) => {
  const pump = () => {
    while (sent < messages && inFlight < WINDOW) {
      if (rate > 0 && sent >= ((Date.now() - started) / 1000) * rate) {
        setTimeout(pump, 5);
        return;
      }
      const i = sent % devices;
      const seq = sent;
      sent++;
      inFlight++;
      client.publish(topics.telemetry('bench', 'bench-edge', `pdu-${i}`), JSON.stringify(message(i, seq)), { qos: 1 }, () => {
        inFlight--;
        acked++;
        if (acked === messages) resolve();
        else pump();
      });
    }
  };
  pump();
});
const seconds = (Date.now() - started) / 1000;
console.log(JSON.stringify({ sent, seconds, rate_per_s: Math.round(sent / seconds) }));
await client.endAsync();
