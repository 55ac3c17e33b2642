/**
 * The one scale convention (docs/design.md §3): value = raw * scale * 10^sf + offset.
 * `sf` is a SunSpec-style scale-factor register value (0 when the point has none).
 */
export function toEngineering(raw: number, scale = 1, offset = 0, sf = 0): number {
  const v = raw * scale * (sf === 0 ? 1 : 10 ** sf) + offset;
  // An integer of at most 12 digits has no binary noise and toPrecision(12) would give it back
  // unchanged: skip the string round trip, once per reading on the agent's hot path.
  if (Number.isInteger(v) && v < 1e12 && v > -1e12) return v;
  // Round away binary noise such as 0.1 * 3 = 0.30000000000000004 (12 significant digits).
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : v;
}

/** The inverse, used by simulators to turn an engineering value into a raw one. */
export function toRaw(value: number, scale = 1, offset = 0, sf = 0): number {
  return (value - offset) / (scale * (sf === 0 ? 1 : 10 ** sf));
}
