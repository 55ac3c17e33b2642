import { closeSync, openSync, readSync } from 'node:fs';
import { DcimError } from '../../contract/errors.js';
import type { GateVerdict, TelemetryGate } from '../ingest/telemetry-gate.js';
import type { RecordedPoll } from './kpi-replay.js';

/**
 * A file of telemetry messages, one contract TelemetryMessage (JSON) per line — what the agent
 * publishes, e.g. captured with `mosquitto_sub -t 'dcim/v1/+/agents/+/devices/+/telemetry'` — read as a
 * stream (constant memory) through the collector's own telemetry gate: the same validation,
 * inventory check and (agent, seq) dedup as live. Empty lines are skipped; every other line that
 * is refused is counted with its line number and reason.
 */
export interface ReadingsFileStats {
  lines: number;
  accepted: number;
  /** Lines refused whole: not JSON, schema, unknown class, future timestamp … */
  invalid: number;
  /** Lines naming a site or device not in the seed. */
  unknown: number;
  /** Lines whose (agent, seq) was already seen. */
  duplicates: number;
  readings: number;
  /** Single readings dropped from accepted lines. */
  readings_invalid: number;
}

export interface ReadingsFileProblem {
  line: number;
  code: string;
  reason: string;
}

const CHUNK = 1024 * 1024;
/** Longer than any valid message (256 KiB payload limit) with room to spare. */
const MAX_LINE_BYTES = 1024 * 1024;

/** Lines of a file, read synchronously in 1 MiB chunks; yields [line number, bytes]. */
function* fileLines(file: string): Generator<[number, Buffer]> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let rest: Buffer = Buffer.alloc(0);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, CHUNK, null);
      const data = got > 0 ? Buffer.concat([rest, buf.subarray(0, got)]) : rest;
      let start = 0;
      for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
        yield [++n, data.subarray(start, i)];
        start = i + 1;
      }
      rest = Buffer.from(data.subarray(start));
      if (got === 0) {
        if (rest.length > 0) yield [++n, rest];
        return;
      }
      if (rest.length > MAX_LINE_BYTES) {
        // A line this long is not a message; skip to its end without holding it.
        yield [++n, rest.subarray(0, MAX_LINE_BYTES + 1)];
        rest = Buffer.alloc(0);
        const skipped = skipToNewline(fd, buf);
        if (skipped === 'eof') return;
        rest = skipped;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function skipToNewline(fd: number, buf: Buffer): Buffer | 'eof' {
  for (;;) {
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got === 0) return 'eof';
    const i = buf.subarray(0, got).indexOf(10);
    if (i >= 0) return Buffer.from(buf.subarray(i + 1, got));
  }
}

export class ReadingsFile {
  readonly stats: ReadingsFileStats = { lines: 0, accepted: 0, invalid: 0, unknown: 0, duplicates: 0, readings: 0, readings_invalid: 0 };
  /** The first `max_problems` refusals, for the report. */
  readonly problems: ReadingsFileProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly gate: TelemetryGate,
    private readonly max_problems = 20,
  ) {}

  /** The accepted polls, in file order. Throws DCIM_E_CONFIG_UNREADABLE when the file cannot be opened. */
  *polls(): Generator<RecordedPoll> {
    for (const [line, bytes] of fileLines(this.file)) {
      if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 13)) continue;
      this.stats.lines++;
      const payload = bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
      const v = this.verdict(payload);
      switch (v.kind) {
        case 'accepted':
          this.stats.accepted++;
          this.stats.readings += v.message.readings.length;
          this.stats.readings_invalid += v.dropped.length;
          for (const d of v.dropped) this.note(line, d.code, `readings[${d.index}]${d.point ? ` ${d.point}` : ''}: ${d.reason}`);
          yield { site: v.message.site, device: v.message.device, ts: v.message.ts, readings: v.message.readings };
          break;
        case 'invalid':
          this.stats.invalid++;
          this.note(line, v.failure.code, v.failure.reason);
          break;
        case 'unknown':
          this.stats.unknown++;
          this.note(line, 'DCIM_E_MQTT_PAYLOAD_INVALID', `${v.what} is not in the seed`);
          break;
        case 'duplicate':
          this.stats.duplicates++;
          break;
      }
    }
  }

  private verdict(payload: Buffer): GateVerdict {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      // The gate gives the precise reason (size, UTF-8, JSON).
      parsed = undefined;
    }
    if (parsed === undefined) return this.gate.check('dcim/v1/_/devices/_/telemetry', payload);
    return this.gate.checkMessage(payload, parsed);
  }

  private note(line: number, code: string, reason: string): void {
    if (this.problems.length < this.max_problems) this.problems.push({ line, code, reason: reason.slice(0, 300) });
  }
}
