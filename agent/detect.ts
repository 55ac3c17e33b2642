import type { DeviceProfile, SnmpProfile } from '../contract/index.js';

/**
 * Which profile reads an SNMP device, from its sysObjectID (SNMPv2-MIB 1.3.6.1.2.1.1.2.0). Pure.
 *
 * A profile claims devices with `match.sys_object_id`: OID prefixes, compared component by
 * component (1.3.6.1.4.1.318.1.3.4.6 claims …4.6 and …4.6.2, never …4.60). The longest claim
 * wins, so a model-specific profile beats a vendor-wide one; two profiles making the same
 * longest claim are both reported and the first by id is taken. A device no profile claims is
 * not dropped: it gets the generic profile (system group, ENTITY-SENSOR-MIB) and the answer
 * says so, for `dcim poll --detect` and the agent's log.
 */
export const GENERIC_SNMP_PROFILE = 'generic-snmp';

export interface Detection {
  profile: SnmpProfile;
  how: 'match' | 'generic';
  /** The claim that matched (`how: 'match'`). */
  matched_prefix?: string;
  /** Every profile with a matching claim, longest claim first (ties by id). */
  candidates: string[];
  /** One line for a person: why this profile. */
  reason: string;
}

export type DetectResult = { ok: true; value: Detection } | { ok: false; reason: string };

const OID = /^\d+(\.\d+)*$/;

export function detectProfile(sysObjectId: string, profiles: ReadonlyMap<string, DeviceProfile>): DetectResult {
  const oid = sysObjectId.trim().replace(/^\./, '');
  const generic = profiles.get(GENERIC_SNMP_PROFILE);
  if (!OID.test(oid)) return { ok: false, reason: `sysObjectID ${JSON.stringify(sysObjectId.slice(0, 80))} is not a numeric OID` };

  const claims: { profile: SnmpProfile; prefix: string }[] = [];
  for (const p of profiles.values()) {
    if (p.protocol !== 'snmp' || !p.match) continue;
    let best: string | undefined;
    for (const prefix of p.match.sys_object_id) {
      if ((oid === prefix || oid.startsWith(`${prefix}.`)) && (best === undefined || components(prefix) > components(best))) best = prefix;
    }
    if (best !== undefined) claims.push({ profile: p, prefix: best });
  }
  claims.sort((a, b) => components(b.prefix) - components(a.prefix) || a.profile.id.localeCompare(b.profile.id));
  const candidates = claims.map((c) => c.profile.id);
  const top = claims[0];
  if (top) {
    const tie = claims.filter((c) => components(c.prefix) === components(top.prefix)).map((c) => c.profile.id);
    const also = tie.length > 1 ? ` (also claimed as long by ${tie.slice(1).join(', ')})` : '';
    return { ok: true, value: { profile: top.profile, how: 'match', matched_prefix: top.prefix, candidates, reason: `sysObjectID ${oid} is under ${top.prefix}, claimed by ${top.profile.id}${also}` } };
  }
  if (!generic || generic.protocol !== 'snmp') return { ok: false, reason: `no profile claims sysObjectID ${oid}, and the generic profile ${GENERIC_SNMP_PROFILE} is not loaded` };
  return { ok: true, value: { profile: generic, how: 'generic', candidates, reason: `no profile claims sysObjectID ${oid}: reading it with ${GENERIC_SNMP_PROFILE} (system group, ENTITY-SENSOR-MIB)` } };
}

function components(oid: string): number {
  return oid.split('.').length;
}
