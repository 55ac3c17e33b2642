/**
 * A segment file is named after the first record id it may hold, zero-padded so that a plain
 * directory listing sorts segments oldest first: `0000000000001234.seg`.
 */
const WIDTH = 16;
const PATTERN = /^(\d{16})\.seg$/;

export function segmentFileName(baseId: number): string {
  return `${String(baseId).padStart(WIDTH, '0')}.seg`;
}

/** The base id of a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = PATTERN.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
