import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { SimSite } from '../sim-site.js';
import { writeTruthFile } from '../truth/truth-file.js';
import type { TruthQuery } from '../truth/truth-recorder.js';

/**
 * Keeps the truth file current: every `every_ms` of real time and once more on stop, the
 * truth of every site (one SiteTruth for one site, `{sites: […]}` for several), in the
 * recorder's format, written atomically by truth/truth-file.ts. Writes never overlap.
 */
export interface TruthFileWriterOptions {
  path: string;
  sites: readonly SimSite[];
  every_ms: number;
  clock: Clock;
  logger: Logger;
  /** Per-device truth is included unless this says otherwise. */
  query?: TruthQuery;
}

export class TruthFileWriter {
  private timer: TimerHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  private running = false;
  private written = 0;

  constructor(private readonly opts: TruthFileWriterOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.write();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    await this.write();
  }

  writes(): number {
    return this.written;
  }

  /** Write now (after any write in progress); failures are logged, never thrown. */
  write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        const truths = this.opts.sites.map((s) => s.truth(undefined, this.opts.query));
        await writeTruthFile(this.opts.path, truths.length === 1 ? truths[0]! : { sites: truths });
        this.written++;
      } catch (e) {
        this.opts.logger.warn('truth file not written', { path: this.opts.path, error: e as Error });
      }
    });
    return this.writing;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.opts.clock.setTimeout(() => {
      void this.write().then(() => this.schedule());
    }, this.opts.every_ms);
  }
}
