import { BatchWriter, type BatchWriterOptions } from './batch-writer.js';
import { InfluxV2Transport, type InfluxV2TransportOptions } from './influx-v2-transport.js';

/**
 * The InfluxDB v2 write API through the official client (influx-v2-transport.ts) behind the
 * shared delivery rules of batch-writer.ts: batches, 413 splits, 4xx quarantine, 429/5xx
 * back-off, the optional spool.
 */
export type InfluxV2SinkOptions = Omit<InfluxV2TransportOptions, 'max_batch_lines'> & Omit<BatchWriterOptions, 'transport'>;

export class InfluxV2Sink extends BatchWriter {
  constructor(opts: InfluxV2SinkOptions) {
    super({ ...opts, transport: new InfluxV2Transport({ ...opts, max_batch_lines: opts.batch_lines ?? 5000 }) });
  }
}
