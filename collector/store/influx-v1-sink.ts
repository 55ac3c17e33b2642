import { BatchWriter, type BatchWriterOptions } from './batch-writer.js';
import { InfluxV1Transport, type InfluxV1TransportOptions } from './influx-v1-transport.js';

/**
 * InfluxDB 1.x `POST /write` (influx-v1-transport.ts) behind the shared delivery rules of
 * batch-writer.ts: batches, 413 splits, 4xx quarantine, 429/5xx back-off, the optional spool.
 */
export type InfluxV1SinkOptions = InfluxV1TransportOptions & Omit<BatchWriterOptions, 'transport'>;

export class InfluxV1Sink extends BatchWriter {
  constructor(opts: InfluxV1SinkOptions) {
    super({ ...opts, transport: new InfluxV1Transport({ ...opts, ...(opts.clock ? { now: () => opts.clock!.now() } : {}) }) });
  }
}
