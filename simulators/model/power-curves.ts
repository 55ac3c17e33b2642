/**
 * Part-load curves of the facility's machines: chiller (EnergyPlus Chiller:Electric:EIR),
 * UPS double conversion, transformer, fans. Pure functions of load and temperature; each cites
 * where its numbers come from.
 */

/**
 * Carrier 19XR 1758 kW / COP 5.86 / VSD, as the Modelica Buildings library record
 * `ElectricEIRChiller_Carrier_19XR_1758kW_5_86COP_VSD` (= the EnergyPlus dataset) gives it.
 * Biquadratic curves in °C: f = a0 + a1·T_chw + a2·T_chw² + a3·T_cond +
 * a4·T_cond² + a5·T_chw·T_cond; EIR(PLR) quadratic.
 */
export const CARRIER_19XR = {
  capacity_w: 1_758_300,
  cop_ref: 5.86,
  plr_min: 0.2,
  t_chw_min_c: 5.56,
  t_chw_max_c: 10,
  t_cond_min_c: 12.78,
  t_cond_max_c: 24.44,
  cap_ft: [3.677279e-1, -3.175504e-2, -4.096383e-3, 7.527566e-2, -2.75754e-3, 5.35902e-3],
  eir_ft: [1.743365e-1, -5.054806e-2, -5.424748e-3, 8.244673e-2, -2.400392e-3, 5.07872e-3],
  eir_fplr: [2.78458e-1, -5.498632e-1, 1.269693],
} as const;

function biquadratic(a: readonly number[], x: number, y: number): number {
  return a[0]! + a[1]! * x + a[2]! * x * x + a[3]! * y + a[4]! * y * y + a[5]! * x * y;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Electric power of a chiller of `capacity_w` (scaled from the 19XR curves) delivering `load_w`
 * of cooling at chilled-water leaving `t_chw_c` and condenser entering `t_cond_c`. Temperatures
 * are held inside the curve's validity range (a warmer CHW set point is not extrapolated: the
 * model is conservative there). Below the minimum part load the machine cycles.
 */
export function chillerPowerW(capacity_w: number, load_w: number, t_chw_c: number, t_cond_c: number): number {
  if (!(load_w > 0) || !(capacity_w > 0)) return 0;
  const c = CARRIER_19XR;
  const tChw = clamp(t_chw_c, c.t_chw_min_c, c.t_chw_max_c);
  const tCond = clamp(t_cond_c, c.t_cond_min_c, c.t_cond_max_c);
  const available = chillerAvailableW(capacity_w, tChw, tCond);
  const plr = Math.min(1.02, load_w / available);
  const plrEff = Math.max(plr, c.plr_min);
  const eirPlr = c.eir_fplr[0] + c.eir_fplr[1] * plrEff + c.eir_fplr[2] * plrEff * plrEff;
  const full = (available / c.cop_ref) * biquadratic(c.eir_ft, tChw, tCond) * eirPlr;
  return plr < c.plr_min ? full * (plr / c.plr_min) : full;
}

/** Cooling the chiller can deliver at these temperatures (CAPFT × nominal capacity). */
export function chillerAvailableW(capacity_w: number, t_chw_c: number, t_cond_c: number): number {
  const c = CARRIER_19XR;
  return capacity_w * biquadratic(c.cap_ft, clamp(t_chw_c, c.t_chw_min_c, c.t_chw_max_c), clamp(t_cond_c, c.t_cond_min_c, c.t_cond_max_c));
}

/** Coefficient of performance the chiller curve gives (cooling W per electric W). */
export function chillerCop(capacity_w: number, load_w: number, t_chw_c: number, t_cond_c: number): number {
  const p = chillerPowerW(capacity_w, load_w, t_chw_c, t_cond_c);
  return p > 0 ? load_w / p : 0;
}

/**
 * Double-conversion UPS losses as a share of rating: no-load + proportional + resistive terms
 * (the usual three-term fit). Gives η ≈ 88 % at 10 % load, 93 % at 20 %, 95.5 % at 50 %,
 * 96 % at full load, in line with the usual 94–97 % industry range for double conversion.
 */
export const UPS_LOSS = { no_load: 0.012, proportional: 0.018, square: 0.01 } as const;

export function upsLossW(rated_w: number, output_w: number): number {
  if (!(rated_w > 0)) return 0;
  const x = Math.max(0, output_w) / rated_w;
  return rated_w * (UPS_LOSS.no_load + UPS_LOSS.proportional * x + UPS_LOSS.square * x * x);
}

export function upsEfficiency(rated_w: number, output_w: number): number {
  return output_w > 0 ? output_w / (output_w + upsLossW(rated_w, output_w)) : 0;
}

/** Transformer: no-load (core) 0.2 % of rating, load (copper) 0.9 % at rating, ∝ load². */
export function transformerLossW(rated_w: number, load_w: number): number {
  if (!(rated_w > 0)) return 0;
  const x = Math.max(0, load_w) / rated_w;
  return rated_w * (0.002 + 0.009 * x * x);
}

/** Fan affinity law: power ∝ speed³, plus a small constant for controls. */
export function fanPowerW(rated_w: number, speed_ratio: number): number {
  const s = clamp(speed_ratio, 0, 1.1);
  return rated_w * (0.02 + 0.98 * s * s * s);
}
