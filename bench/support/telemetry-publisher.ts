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
import { pduPoll } from './telemetry-poll.js';

const [url = 'mqtt://127.0.0.1:1883', devicesArg = '10000', messagesArg = '100000', rateArg = '0'] = process.argv.slice(2);
const devices = Number(devicesArg);
const messages = Number(messagesArg);
const rate = Number(rateArg);

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
      client.publish(topics.telemetry('bench', 'bench-edge', `pdu-${i}`), JSON.stringify(pduPoll(i, seq)), { qos: 1 }, () => {
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
