import type { DeviceProfile, ModbusProfile, RedfishProfile, SnmpProfile, Unit } from '../contract/index.js';
import { profilePoints, unitForName } from '../contract/index.js';
import { pointRegisterCount } from './decode/modbus-value.js';
import { checkPrometheusProfile } from './prometheus/prometheus-profile-checks.js';
import { plausibilityProblems } from './plausibility/plausibility.js';

/**
 * Checks a profile must pass before the agent polls with it, beyond what the zod schema can
 * say about one field at a time: combinations that would otherwise only fail at poll time
 * (as in Telegraf, a bad byte order fails at start, never mid-poll). Returns every problem, empty when fine.
 */
export function checkProfile(p: DeviceProfile): string[] {
  const problems = p.protocol === 'snmp' ? checkSnmp(p) : p.protocol === 'modbus' ? checkModbus(p) : p.protocol === 'prometheus' ? checkPrometheusProfile(p) : checkRedfish(p);
  for (const pt of allPoints(p)) {
    const implied = unitForName(pt.name);
    if (implied !== undefined && pt.unit !== implied) problems.push(`${pt.where}: name ${pt.name} implies unit ${implied}, profile says ${pt.unit ?? 'none'}`);
    if (implied === undefined && pt.unit !== undefined) problems.push(`${pt.where}: unit ${pt.unit} but name ${pt.name} has no unit suffix`);
    if (pt.kpi !== undefined && unitForName(pt.kpi) !== pt.unit) problems.push(`${pt.where}: kpi ${pt.kpi} needs unit ${unitForName(pt.kpi) ?? 'none'}`);
  }
  problems.push(...plausibilityProblems(p));
  return problems;
}

export interface PointView {
  where: string;
  name: string;
  unit?: Unit | undefined;
  kpi?: string | undefined;
}

export function allPoints(p: DeviceProfile): PointView[] {
  return profilePoints(p);
}

function checkRedfish(p: RedfishProfile): string[] {
  const problems: string[] = [];
  const check = (where: string, pt: RedfishProfile['resources'][number]['points'][number]) => {
    if (pt.type === 'enum' && !pt.enum) problems.push(`${where}: type enum needs an enum map`);
  };
  p.resources.forEach((r, ri) => r.points.forEach((pt, i) => check(`resources[${ri}].points[${i}]`, pt)));
  p.collections.forEach((c, ci) => c.points.forEach((pt, i) => check(`collections[${ci}].points[${i}]`, pt)));
  return problems;
}

function checkSnmp(p: SnmpProfile): string[] {
  const problems: string[] = [];
  const oids = new Map<string, string>();
  p.points.forEach((pt, i) => {
    if (pt.type === 'enum' && !pt.enum) problems.push(`points[${i}]: type enum needs an enum map`);
    const prev = oids.get(pt.oid);
    if (prev) problems.push(`points[${i}]: oid ${pt.oid} already read by ${prev}`);
    oids.set(pt.oid, pt.name);
  });
  p.tables.forEach((t, ti) => {
    const cols = new Set<number>();
    t.columns.forEach((c, ci) => {
      if (c.type === 'enum' && !c.enum) problems.push(`tables[${ti}].columns[${ci}]: type enum needs an enum map`);
      if (cols.has(c.column)) problems.push(`tables[${ti}].columns[${ci}]: column ${c.column} appears twice`);
      cols.add(c.column);
    });
    for (const pt of p.points) {
      if (pt.oid.startsWith(`${t.entry}.`)) problems.push(`tables[${ti}]: scalar point ${pt.name} lies inside the table`);
    }
  });
  return problems;
}

function checkModbus(p: ModbusProfile): string[] {
  const problems: string[] = [];
  const max = p.quirks.max_registers_per_read;
  p.points.forEach((pt, i) => {
    const at = `points[${i}]`;
    const bitKind = pt.register === 'coil' || pt.register === 'discrete';
    if (bitKind && pt.type !== 'bool') problems.push(`${at}: a ${pt.register} is one bit; type must be bool`);
    if (bitKind && pt.scale_factor) problems.push(`${at}: a ${pt.register} cannot have a scale factor`);
    if (pt.bit !== undefined && !['int16', 'uint16', 'bool'].includes(pt.type)) problems.push(`${at}: bit needs a 16-bit type (int16, uint16), not ${pt.type}`);
    if (pt.bit !== undefined && bitKind) problems.push(`${at}: bit applies to registers, not to a ${pt.register}`);
    if (pt.type === 'string' && pt.length === undefined) problems.push(`${at}: type string needs length (registers)`);
    if (pt.type !== 'string' && pt.length !== undefined) problems.push(`${at}: length only applies to type string`);
    const count = pointRegisterCount(pt);
    if (count > max) problems.push(`${at}: needs ${count} registers, more than max_registers_per_read ${max}`);
    if (pt.address + count > 0x10000) problems.push(`${at}: address ${pt.address} + ${count} registers passes 65535`);
    if ((pt.type === 'string' || pt.type === 'bool' || pt.bit !== undefined) && (pt.scale !== 1 || pt.offset !== 0)) {
      problems.push(`${at}: scale/offset apply to numbers only`);
    }
  });
  return problems;
}
