import type { DeviceProfile, SnmpProbe, SnmpProfile } from '../contract/index.js';
import { compareOids } from './snmp/oid.js';
import type { ProbeAnswer } from './snmp/snmp-probe.js';

/**
 * Which profile reads an SNMP device. Pure: the caller reads the sysObjectID (SNMPv2-MIB
 * 1.3.6.1.2.1.1.2.0) and, when `probeOids` asks for them, one GETNEXT per probe subtree.
 *
 * 1. Claims. A profile claims devices with `match.sys_object_id`: OID prefixes, compared component
 *    by component (1.3.6.1.4.1.318.1.3.4.6 claims …4.6 and …4.6.2, never …4.60). A claim made
 *    together with `match.probe` holds only when every probe answers (Liebert's prefix also
 *    covers its air conditioners; only a card answering UPS-MIB is a UPS). The longest holding
 *    claim wins, so a model-specific profile beats a vendor-wide one; equal claims rank by how
 *    many probes answered, then by id, and the tie is named.
 * 2. Probes. When no claim holds, every profile whose probes all answer is a candidate — the
 *    way a UPS-MIB card under any vendor's sysObjectID, or under 1.3.6.1.2.1.33 itself, is
 *    found. More answered probes rank first (a vendor MIB on top of the standard one), then a
 *    profile without sysObjectID claims (it expects any vendor) before one whose vendor claim
 *    did not match, then the more specific subtrees, then id.
 * 3. Generic. A device nothing recognises is not dropped: it gets the generic profile (system
 *    group, ENTITY-SENSOR-MIB) and the answer says so, for `dcim poll --detect` and the log.
 * Every candidate carries its reason, so a person can see why one profile ranked above another.
 */
export const GENERIC_SNMP_PROFILE = 'generic-snmp';

export type DetectHow = 'match' | 'probe' | 'generic';

export interface Candidate {
  profile: string;
  how: Exclude<DetectHow, 'generic'>;
  reason: string;
}

export interface Detection {
  profile: SnmpProfile;
  how: DetectHow;
  /** The claim that matched (`how: 'match'`). */
  matched_prefix?: string;
  /** Every candidate profile id, best first. */
  candidates: string[];
  /** The same, each with why it is a candidate. */
  ranking: Candidate[];
  /** Claims that did not hold because a probe went unanswered, each with why. */
  rejected: string[];
  /** One line for a person: why this profile. */
  reason: string;
}

export type DetectResult = { ok: true; value: Detection } | { ok: false; reason: string };

/** Probed OID → the device's answer inside that subtree (snmp-probe.ts probeAnswers). */
export type ProbeAnswers = ReadonlyMap<string, ProbeAnswer>;

const OID = /^\d+(\.\d+)*$/;

function normalise(sysObjectId: string): string {
  return sysObjectId.trim().replace(/^\./, '');
}

function snmpProfiles(profiles: ReadonlyMap<string, DeviceProfile>): SnmpProfile[] {
  return [...profiles.values()].filter((p): p is SnmpProfile => p.protocol === 'snmp' && p.match !== undefined);
}

function longestClaim(p: SnmpProfile, oid: string): string | undefined {
  let best: string | undefined;
  for (const prefix of p.match?.sys_object_id ?? []) {
    if ((oid === prefix || oid.startsWith(`${prefix}.`)) && (best === undefined || components(prefix) > components(best))) best = prefix;
  }
  return best;
}

/**
 * The subtrees to probe before `detectProfile` can decide: none when a claim without probes
 * already holds (a PDU recognised by its sysObjectID costs no extra request), else every probe of
 * every SNMP profile, once each, in OID order.
 */
export function probeOids(sysObjectId: string, profiles: ReadonlyMap<string, DeviceProfile>): string[] {
  const oid = normalise(sysObjectId);
  if (!OID.test(oid)) return [];
  const all = snmpProfiles(profiles);
  if (all.some((p) => p.match?.probe === undefined && longestClaim(p, oid) !== undefined)) return [];
  const oids = new Set(all.flatMap((p) => (p.match?.probe ?? []).map((x) => x.oid)));
  return [...oids].sort(compareOids);
}

/** Whether one probe answered (and its value looks right, when the probe says how it must). */
function answered(probe: SnmpProbe, answers: ProbeAnswers): ProbeAnswer | undefined {
  const a = answers.get(probe.oid);
  if (!a) return undefined;
  if (probe.matches !== undefined && !new RegExp(probe.matches, 'i').test(a.text)) return undefined;
  return a;
}

function describe(probe: SnmpProbe, a: ProbeAnswer): string {
  return `${probe.object} = ${JSON.stringify(a.text)} under ${probe.mib}`;
}

function missing(probe: SnmpProbe, answers: ProbeAnswers): string {
  const a = answers.get(probe.oid);
  if (a && probe.matches !== undefined) return `${probe.object} under ${probe.mib} is ${JSON.stringify(a.text)}, not /${probe.matches}/i`;
  return `no answer under ${probe.mib} (${probe.object}, ${probe.oid})`;
}

export function detectProfile(sysObjectId: string, profiles: ReadonlyMap<string, DeviceProfile>, answers: ProbeAnswers = new Map()): DetectResult {
  const oid = normalise(sysObjectId);
  const generic = profiles.get(GENERIC_SNMP_PROFILE);
  if (!OID.test(oid)) return { ok: false, reason: `sysObjectID ${JSON.stringify(sysObjectId.slice(0, 80))} is not a numeric OID` };

  interface Scored {
    profile: SnmpProfile;
    prefix?: string;
    probes: number;
    depth: number;
    claims: boolean;
    reason: string;
  }
  const claims: Scored[] = [];
  const probed: Scored[] = [];
  const rejected: string[] = [];
  for (const p of snmpProfiles(profiles)) {
    const probes = p.match?.probe ?? [];
    const hits = probes.map((x) => answered(x, answers));
    const all = probes.length > 0 && hits.every((h) => h !== undefined);
    const says = all ? probes.map((x, i) => describe(x, hits[i] as ProbeAnswer)).join(', ') : '';
    const depth = probes.reduce((n, x) => n + components(x.oid), 0);
    const prefix = longestClaim(p, oid);
    if (prefix !== undefined) {
      if (probes.length === 0) {
        claims.push({ profile: p, prefix, probes: 0, depth, claims: true, reason: `sysObjectID ${oid} is under ${prefix}, claimed by ${p.id}` });
        continue;
      }
      if (all) {
        claims.push({ profile: p, prefix, probes: probes.length, depth, claims: true, reason: `sysObjectID ${oid} is under ${prefix}, claimed by ${p.id}, and it answers ${says}` });
        continue;
      }
      const why = probes.flatMap((x, i) => (hits[i] ? [] : [missing(x, answers)])).join('; ');
      rejected.push(`${p.id}: sysObjectID ${oid} is under ${prefix}, but ${why}`);
    }
    const vendor = p.match?.sys_object_id ?? [];
    // A vendor profile found by the standard MIB alone: say why it ranks below a plain one.
    const outside = prefix === undefined && vendor.length > 0 ? `; its vendor prefix ${vendor.join(', ')} does not cover the sysObjectID` : '';
    if (all) probed.push({ profile: p, probes: probes.length, depth, claims: vendor.length > 0, reason: `it answers ${says}${outside}` });
  }

  claims.sort((a, b) => components(b.prefix as string) - components(a.prefix as string) || b.probes - a.probes || a.profile.id.localeCompare(b.profile.id));
  // The generic profile is the fallback: it ranks below every profile made for a device kind.
  const isGeneric = (c: Scored) => Number(c.profile.id === GENERIC_SNMP_PROFILE);
  probed.sort((a, b) => isGeneric(a) - isGeneric(b) || b.probes - a.probes || Number(a.claims) - Number(b.claims) || b.depth - a.depth || a.profile.id.localeCompare(b.profile.id));
  const ranking: Candidate[] = [
    ...claims.map((c): Candidate => ({ profile: c.profile.id, how: 'match', reason: c.reason })),
    ...probed.filter((c) => !claims.some((x) => x.profile.id === c.profile.id)).map((c): Candidate => ({ profile: c.profile.id, how: 'probe', reason: c.reason })),
  ];
  const candidates = ranking.map((c) => c.profile);

  const top = claims[0];
  if (top) {
    const tie = claims.filter((c) => components(c.prefix as string) === components(top.prefix as string) && c.probes === top.probes).map((c) => c.profile.id);
    const also = tie.length > 1 ? ` (also claimed as long by ${tie.slice(1).join(', ')})` : '';
    return { ok: true, value: { profile: top.profile, how: 'match', matched_prefix: top.prefix as string, candidates, ranking, rejected, reason: `${top.reason}${also}` } };
  }
  const best = probed[0];
  if (best) {
    const tie = probed.filter((c) => c.probes === best.probes && c.claims === best.claims && c.depth === best.depth).map((c) => c.profile.id);
    const also = tie.length > 1 ? ` (${tie.slice(1).join(', ')} answer as well)` : '';
    return { ok: true, value: { profile: best.profile, how: 'probe', candidates, ranking, rejected, reason: `no profile claims sysObjectID ${oid}; ${best.profile.id}: ${best.reason}${also}` } };
  }
  if (!generic || generic.protocol !== 'snmp') return { ok: false, reason: `no profile claims sysObjectID ${oid} and no probe answered, and the generic profile ${GENERIC_SNMP_PROFILE} is not loaded` };
  const unless = rejected.length > 0 ? ` (${rejected.join('; ')})` : '';
  return {
    ok: true,
    value: { profile: generic, how: 'generic', candidates, ranking, rejected, reason: `no profile claims sysObjectID ${oid} and no probed MIB answered: reading it with ${GENERIC_SNMP_PROFILE} (system group, ENTITY-SENSOR-MIB)${unless}` },
  };
}

function components(oid: string): number {
  return oid.split('.').length;
}
