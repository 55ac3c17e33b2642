/** Numeric OID helpers. OIDs compare component by component, not as strings ("1.10" > "1.9"). */
export function parseOid(oid: string): number[] {
  return oid.split('.').map(Number);
}

export function compareOids(a: string, b: string): number {
  const x = parseOid(a);
  const y = parseOid(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** True when `oid` lies strictly below `base`. */
export function inSubtree(base: string, oid: string): boolean {
  return oid.startsWith(`${base}.`);
}

/** The instance suffix of `oid` under `base` ("1.3.6.1.2.1.2.2.1.2.7" under "…1.2" → "7"). */
export function suffixOf(base: string, oid: string): string {
  return oid.slice(base.length + 1);
}
