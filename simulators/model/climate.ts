/**
 * Outdoor weather of a site: dry bulb, humidity, wet bulb, cloud cover and sunshine. The
 * deterministic part (seasons, day) is a pure function of local time; the weather part (fronts,
 * clouds) is a bounded random walk the model carries in its state. Defaults: Guiyang / Gui'an
 * (published Guiyang climate normals: annual mean 15.3 °C, coldest early January ≈ 4.6 °C, hottest late
 * July ≈ 24 °C, RH ≈ 77 %, one of China's cloudiest places).
 */

export interface ClimateParams {
  mean_c: number;
  seasonal_c: number;
  daily_c: number;
  humidity_ratio: number;
  cloudiness_ratio: number;
  latitude_deg: number;
  longitude_deg: number;
}

export const GUIZHOU_CLIMATE: ClimateParams = {
  mean_c: 15.3,
  seasonal_c: 9.7,
  daily_c: 3.5,
  humidity_ratio: 0.77,
  cloudiness_ratio: 0.94,
  latitude_deg: 26.4,
  longitude_deg: 106.6,
};

/** Coldest day of the year (early January in Guiyang). */
const COLDEST_DAY = 8;
/** Warmest hour of the day. */
const WARMEST_HOUR = 15;

/** Seasonal and daily dry-bulb temperature before weather. */
export function dryBulbC(p: ClimateParams, hour: number, day_of_year: number): number {
  const seasonal = -p.seasonal_c * Math.cos((2 * Math.PI * (day_of_year - COLDEST_DAY)) / 365);
  const daily = p.daily_c * Math.cos((2 * Math.PI * (hour - WARMEST_HOUR)) / 24);
  return p.mean_c + seasonal + daily;
}

/** Relative humidity: lowest in the warm afternoon, near saturation before dawn. */
export function relativeHumidity(p: ClimateParams, hour: number, walk: number): number {
  const daily = -0.12 * Math.cos((2 * Math.PI * (hour - WARMEST_HOUR)) / 24);
  return Math.min(0.99, Math.max(0.2, p.humidity_ratio + daily + walk));
}

/**
 * Wet-bulb temperature from dry bulb and RH (Stull 2011, J. Appl. Meteor. Climatol. 50:2267;
 * ±0.3 K for RH 5–99 %, −20–50 °C). At Gui'an's 87 kPa the true value is a few tenths lower; the
 * psychrometric means derived from the Guiyang observatory's 2014–2023 summaries (summer 20.3 °C,
 * annual 12.8 °C) agree within that.
 */
export function wetBulbC(dry_c: number, rh_ratio: number): number {
  const rh = Math.min(99, Math.max(5, rh_ratio * 100));
  return (
    dry_c * Math.atan(0.151977 * Math.sqrt(rh + 8.313659)) +
    Math.atan(dry_c + rh) -
    Math.atan(rh - 1.676331) +
    0.00391838 * rh ** 1.5 * Math.atan(0.023101 * rh) -
    4.686035
  );
}

/** Sine of the sun's elevation (negative at night), from local solar geometry. */
export function sunElevationSin(p: ClimateParams, utc_hour: number, day_of_year: number): number {
  const decl = (23.44 * Math.PI) / 180 * Math.sin((2 * Math.PI * (284 + day_of_year)) / 365);
  const solarHour = utc_hour + p.longitude_deg / 15;
  const hourAngle = ((solarHour - 12) * 15 * Math.PI) / 180;
  const lat = (p.latitude_deg * Math.PI) / 180;
  return Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
}

/**
 * Global horizontal irradiance: Haurwitz clear-sky model (1098·sinh·e^(−0.057/sinh) W/m²)
 * reduced by cloud cover after Kasten & Czeplak (1 − 0.75·c^3.4).
 */
export function irradianceWm2(elevation_sin: number, cloud_ratio: number): number {
  if (elevation_sin <= 0.01) return 0;
  const clear = 1098 * elevation_sin * Math.exp(-0.057 / elevation_sin);
  const c = Math.min(1, Math.max(0, cloud_ratio));
  return clear * (1 - 0.75 * c ** 3.4);
}
