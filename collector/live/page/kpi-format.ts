import type { KpiFormat } from '../../kpi/registry/kpi-module.js';

/**
 * How the live page writes a KPI's number. Each KPI module declares its format (display.format);
 * the server hands the page every registered KPI's format with the catalogue, since browser code
 * cannot read the registry.
 */
export type { KpiFormat };

/** A KPI the page has no format for (a newer server's, say) is rounded to three decimals. */
export function formatKpi(value: number, format: KpiFormat | undefined): string {
  if (!format) return String(Math.round(value * 1000) / 1000);
  return `${(value * format.scale).toFixed(format.digits)}${format.unit}`;
}
