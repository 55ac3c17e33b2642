import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DcimError } from '../contract/index.js';

/**
 * A counter that only goes up, across restarts and crashes: the telemetry `seq` the collector
 * de-duplicates on (docs/design.md §2), and the MQTT session `bd_seq`.
 *
 * Write-ahead in blocks: before handing out a number beyond the reserved ceiling, the store
 * durably writes a new ceiling `block` numbers higher (temp file, fsync, rename). After a
 * crash it resumes at the ceiling, skipping at most `block - 1` numbers and never reusing
 * one. A reused seq would make the collector drop fresh data as a replay, which is far worse
 * than a gap.
 *
 * A corrupt state file cannot tell where the counter stood, so the store resumes at
 * `now_ms × 1000`: above any value reached by counting from 0 (or from an earlier such
 * fallback) at fewer than 1000 numbers per millisecond.
 */
export interface SeqStoreOptions {
  file: string;
  /** Numbers reserved per durable write. 1 persists every increment (for bd_seq). */
  block?: number;
  /** For the corrupt-file fallback. */
  now?: () => number;
  onCorrupt?: (reason: string) => void;
}

interface State {
  reserved: number;
}

export class SeqStore {
  private nextValue = 0;
  private reserved = 0;
  private opened = false;

  constructor(private readonly opts: SeqStoreOptions) {}

  /** Load (or create) the state file. */
  open(): void {
    let state: State | undefined;
    let text: string | undefined;
    try {
      text = readFileSync(this.opts.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${this.opts.file}: cannot read sequence state: ${(e as Error).message}`);
    }
    if (text !== undefined) {
      state = parseState(text);
      if (!state) {
        const fallback = Math.floor((this.opts.now ?? Date.now)() * 1000);
        this.opts.onCorrupt?.(`${this.opts.file}: sequence state is corrupt; resuming at ${fallback}`);
        state = { reserved: fallback };
      }
    }
    this.nextValue = state?.reserved ?? 0;
    this.reserved = this.nextValue;
    this.opened = true;
  }

  /** The next number; persists a new reservation first when the block is used up. */
  next(): number {
    if (!this.opened) throw new Error('SeqStore.next() before open()');
    if (this.nextValue >= this.reserved) {
      const ceiling = this.nextValue + Math.max(1, this.opts.block ?? 1000);
      if (ceiling > Number.MAX_SAFE_INTEGER) throw new DcimError('DCIM_E_CONFIG_INVALID', `${this.opts.file}: sequence exhausted`);
      writeDurably(this.opts.file, JSON.stringify({ reserved: ceiling }) + '\n');
      this.reserved = ceiling;
    }
    return this.nextValue++;
  }

  /** The number the next call to next() returns. */
  peek(): number {
    return this.nextValue;
  }
}

function parseState(text: string): State | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && Number.isSafeInteger((v as State).reserved) && (v as State).reserved >= 0) return { reserved: (v as State).reserved };
  } catch {
    // fall through
  }
  return undefined;
}

function writeDurably(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dfd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some filesystems do not allow fsync on a directory; the rename is still atomic
  }
}
