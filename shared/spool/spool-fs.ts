import fs from 'node:fs';
import { dirname } from 'node:path';

/**
 * The file operations the spool needs, as a port: the real one below, and in tests a wrapper
 * that fails like a full disk or a dying one. Appends, reads and truncation are synchronous
 * (page-cache speed, and they keep the order of records trivially right); fsync, the slow
 * part, runs off the event loop so a slow disk cannot stall the pollers.
 */
export interface SpoolFs {
  mkdirp(dir: string): void;
  /** Names in `dir`; [] when it does not exist. */
  list(dir: string): string[];
  /** The whole file; undefined when it does not exist. */
  readFile(path: string): Buffer | undefined;
  /** Create a new file for appending; fails if it exists. */
  createAppend(path: string): number;
  openRead(path: string): number;
  /** Bytes written; may be fewer than asked (a full disk). */
  write(fd: number, buf: Buffer): number;
  read(fd: number, buf: Buffer, position: number): number;
  ftruncate(fd: number, len: number): void;
  truncate(path: string, len: number): void;
  fsync(fd: number): Promise<void>;
  fsyncSync(fd: number): void;
  /** Make a create/rename/unlink in `dir` durable; a no-op where the filesystem refuses. */
  fsyncDir(dir: string): Promise<void>;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Write a temp file (fsync'd when asked), then rename it over `path`. */
  replaceFile(path: string, data: string | Buffer, durable: boolean): Promise<void>;
  replaceFileSync(path: string, data: string | Buffer, durable: boolean): void;
  /** Create `path` with `data`; false when it already exists. */
  createExclusive(path: string, data: string): boolean;
}

export const nodeSpoolFs: SpoolFs = {
  mkdirp: (dir) => void fs.mkdirSync(dir, { recursive: true, mode: 0o700 }),
  list: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  },
  readFile: (path) => {
    try {
      return fs.readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  createAppend: (path) => fs.openSync(path, 'ax', 0o600),
  openRead: (path) => fs.openSync(path, 'r'),
  write: (fd, buf) => fs.writeSync(fd, buf, 0, buf.length),
  read: (fd, buf, position) => fs.readSync(fd, buf, 0, buf.length, position),
  ftruncate: (fd, len) => fs.ftruncateSync(fd, len),
  truncate: (path, len) => fs.truncateSync(path, len),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve()))),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fsyncDir: async (dir) => {
    let fd: number | undefined;
    try {
      fd = fs.openSync(dir, 'r');
      await new Promise<void>((resolve, reject) => fs.fsync(fd as number, (e) => (e ? reject(e) : resolve())));
    } catch {
      // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  },
  close: (fd) => fs.closeSync(fd),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => {
    try {
      fs.unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  },
  replaceFile: async (path, data, durable) => {
    const tmp = `${path}.tmp`;
    const fh = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path);
  },
  replaceFileSync: (path, data, durable) => {
    const tmp = `${path}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  },
  createExclusive: (path, data) => {
    try {
      fs.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      fs.writeFileSync(path, data, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  },
};
