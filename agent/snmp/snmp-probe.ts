import type { ErrorCode } from '../../contract/index.js';
import type { PollStats } from '../device-reader.js';
import { isVarbindException, SnmpType, type Varbind } from './asn1-types.js';
import { inSubtree } from './oid.js';

/**
 * Detection probes (profile `match.probe`): one GETNEXT at a subtree's root tells whether a
 * device serves that MIB at all, whatever its sysObjectID says. The answer counts only when the
 * next object lies inside the subtree: an agent without the MIB answers with whatever object
 * follows it, or endOfMibView.
 */
export interface ProbeAnswer {
  /** The object the device answered with (under the probed subtree). */
  oid: string;
  /** Its value as text, for the reason a person reads and for `matches`. */
  text: string;
}

/** What a reader offers detection beyond a poll: GETNEXT at each OID, with its retry policy. */
export interface SubtreeProber {
  getNextEach(oids: readonly string[], opts?: { deadlineAt?: number }): Promise<ProbeRun>;
}

export interface ProbeRun {
  /** Probed OID → the varbind that followed it, for each request the device answered. */
  next: Map<string, Varbind>;
  /** Probed OID → why it has no answer (timeout, error-status). */
  failed: Map<string, ErrorCode>;
  poll: PollStats;
}

export function isSubtreeProber(x: unknown): x is SubtreeProber {
  return typeof x === 'object' && x !== null && typeof (x as { getNextEach?: unknown }).getNextEach === 'function';
}

/** Longest text a probe answer keeps: identity strings are short, a runaway one is cut. */
const MAX_TEXT = 64;

/** The answers inside their subtree, by probed OID. Pure. */
export function probeAnswers(next: ReadonlyMap<string, Varbind>): Map<string, ProbeAnswer> {
  const out = new Map<string, ProbeAnswer>();
  for (const [probed, vb] of next) {
    if (isVarbindException(vb.type) || !inSubtree(probed, vb.oid)) continue;
    out.set(probed, { oid: vb.oid, text: varbindText(vb) });
  }
  return out;
}

/** A varbind's value as printable text: strings decoded and cleaned, numbers as decimals. */
export function varbindText(vb: Varbind): string {
  let s: string;
  if (Buffer.isBuffer(vb.value)) {
    if (vb.type === SnmpType.OctetString) s = vb.value.toString('utf8');
    else s = `0x${vb.value.toString('hex')}`;
  } else s = String(vb.value);
  // Device strings are untrusted: no control characters in a reason printed to a terminal.
  s = [...s].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('').trim();
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
}
