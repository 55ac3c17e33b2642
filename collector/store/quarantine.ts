import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';

/**
 * Batches a store refused (4xx other than 413/429). Retrying would fail the same way, so they are
 * set aside: logged with the server's message and, when a folder is configured, written there as
 * line protocol so an operator can fix the cause and replay them (`curl --data-binary @file`).
 */
export class Quarantine {
  private seq = 0;

  constructor(
    private readonly dir: string | undefined,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async put(lines: readonly string[], status: number, message: string): Promise<string | undefined> {
    let file: string | undefined;
    if (this.dir) {
      file = join(this.dir, `${this.now()}-${process.pid}-${this.seq++}.lp`);
      try {
        await mkdir(this.dir, { recursive: true });
        await writeFile(file, lines.join('\n') + '\n');
      } catch (e) {
        this.logger.error('cannot write quarantine file', { code: 'DCIM_E_STORE_WRITE', file, error: e as Error });
        file = undefined;
      }
    }
    this.logger.error('store rejected a batch; quarantined', {
      code: 'DCIM_E_STORE_REJECTED',
      status,
      error: message.slice(0, 500),
      lines: lines.length,
      ...(file ? { file } : {}),
    });
    return file;
  }
}
