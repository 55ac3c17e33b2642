import type { Reading } from '../../../contract/messages.js';
import { unitForName } from '../../../contract/units.js';
import type { DeviceQuantities } from '../../../simulators/model/quantities.js';

/**
 * A device's simulated quantities as the readings of one good poll, straight from the model
 * (no protocol in between): numbers get the unit their name implies, table rows their index tag.
 */
export function modelReadings(q: DeviceQuantities): Reading[] {
  const readings: Reading[] = [];
  const add = (point: string, v: unknown, index?: Reading['index']) => {
    if (typeof v !== 'number' && typeof v !== 'string') return;
    const unit = typeof v === 'number' ? unitForName(point) : undefined;
    readings.push({ point, value: v, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) });
  };
  for (const [k, v] of Object.entries(q.values)) add(k, v);
  for (const [tag, rows] of Object.entries(q.rows)) for (const [i, row] of rows) for (const [k, v] of Object.entries(row)) add(k, v, { [tag]: String(i) });
  return readings;
}
