import { SiteInventorySchema, type SiteInventory } from '../../../contract/index.js';
import type { AgentDevice } from '../../../agent/devices.js';
import type { DeviceReader } from '../../../agent/device-reader.js';

/**
 * A fake device for the spool's fault tests: every read returns the next number of a per-device
 * counter (`poll_count`), so a subscriber can tell exactly which readings were taken and which
 * arrived. The protocol readers have their own tests; these tests are about what happens to a
 * reading after it is taken.
 */
export interface TakenReading {
  device: string;
  n: number;
  /** When the read began (the telemetry `ts`). */
  ts: number;
}

export interface CountingReaderOptions {
  /** How long a read takes, so a broker can be stopped in the middle of a poll cycle. */
  readMs?: number;
  /** First counter value; a restarted process starts elsewhere so its readings are distinct. */
  startAt?: number;
  /** Extra string readings of 200 characters each, to make messages bigger. */
  padReadings?: number;
  onRead?: (r: TakenReading) => void;
}

export function countingReaders(opts: CountingReaderOptions = {}): { readerFor: (d: AgentDevice) => DeviceReader; inFlight: () => number } {
  let reading = 0;
  const readerFor = (d: AgentDevice): DeviceReader => {
    let n = (opts.startAt ?? 1) - 1;
    return {
      read: async () => {
        const ts = Date.now();
        reading++;
        try {
          if (opts.readMs) await new Promise((r) => setTimeout(r, opts.readMs));
          n++;
          opts.onRead?.({ device: d.device.id, n, ts });
          const pad = Array.from({ length: opts.padReadings ?? 0 }, (_, i) => ({ point: `pad_${i}`, value: `${n}`.padEnd(200, '.'), quality: 'good' as const }));
          return { readings: [{ point: 'poll_count', value: n, quality: 'good' as const }, ...pad], poll: { ms: Date.now() - ts, requests: 1, retries: 0, timeouts: 0 } };
        } finally {
          reading--;
        }
      },
      close: async () => undefined,
    };
  };
  return { readerFor, inFlight: () => reading };
}

/** A site of `count` meters polled every second (the profile only gives them a class). */
export function meterSite(count: number): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id: 'demo', name: 'Spool test site' },
    halls: [{ id: 'h1' }],
    racks: [],
    devices: Array.from({ length: count }, (_, i) => ({
      id: `m${String(i + 1).padStart(2, '0')}`,
      profile: 'eastron-sdm630',
      hall: 'h1',
      interval_s: 1,
      address: { protocol: 'modbus', host: '127.0.0.1', port: 1, unit_id: i + 1 },
    })),
  });
}
