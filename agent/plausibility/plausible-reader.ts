import type { DeviceProfile, Reading } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { DeviceReader, PollResult, ReadOptions } from '../device-reader.js';
import { isSubtreeProber, type ProbeRun, type SubtreeProber } from '../snmp/snmp-probe.js';
import { PlausibilityChecker, type Finding } from './plausibility.js';

/**
 * A device reader whose readings are judged before anyone sees them: every reader the agent and
 * `dcim poll` build goes through this, so no protocol can publish an impossible value as good.
 * A point's finding is logged when it starts and when it ends, not at every poll: a device that
 * keeps lying would otherwise fill the log.
 */
export function withPlausibility(reader: DeviceReader, profile: DeviceProfile, logger?: Logger): DeviceReader {
  // Detection probes (snmp-probe.ts) carry no readings to judge: a prober's are passed through.
  return isSubtreeProber(reader) ? new PlausibleProber(reader, profile, logger) : new PlausibleReader(reader, profile, logger);
}

/**
 * One object per device, its methods on the prototype: the agent holds one of these for every
 * device, and closures per device (read, close, a bound getNextEach) cost a context and a
 * function object each.
 */
class PlausibleReader implements DeviceReader {
  private readonly checker: PlausibilityChecker;
  /** The open findings, made on the first one: a device that never lies never holds a map. */
  private open: Map<string, Finding> | undefined;

  constructor(
    protected readonly reader: DeviceReader,
    profile: DeviceProfile,
    private readonly logger: Logger | undefined,
  ) {
    this.checker = new PlausibilityChecker(profile);
  }

  async read(opts?: ReadOptions): Promise<PollResult> {
    const result = await this.reader.read(opts);
    const { readings, findings } = this.checker.check(result.readings);
    if (this.logger && (findings.length > 0 || (this.open !== undefined && this.open.size > 0))) logTransitions(this.logger, (this.open ??= new Map()), findings, readings);
    return { ...result, readings };
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

class PlausibleProber extends PlausibleReader implements SubtreeProber {
  constructor(
    private readonly prober: DeviceReader & SubtreeProber,
    profile: DeviceProfile,
    logger: Logger | undefined,
  ) {
    super(prober, profile, logger);
  }

  getNextEach(oids: readonly string[], opts?: { deadlineAt?: number }): Promise<ProbeRun> {
    return this.prober.getNextEach(oids, opts);
  }
}

function keyOf(f: Pick<Finding, 'point' | 'index'>): string {
  return f.index ? `${f.point}${JSON.stringify(f.index)}` : f.point;
}

function logTransitions(logger: Logger, open: Map<string, Finding>, findings: readonly Finding[], readings: readonly Reading[]): void {
  const now = new Map(findings.map((f) => [keyOf(f), f]));
  for (const [k, f] of now) {
    const was = open.get(k);
    if (!was || was.code !== f.code) logger.warn('implausible value', { code: f.code, point: f.point, ...(f.index ? { index: f.index } : {}), detail: f.detail });
  }
  // A point found before and good now has recovered; one absent from this poll stays open.
  const seen = new Set(readings.filter((r) => r.quality === 'good').map((r) => keyOf(r)));
  for (const [k, f] of open) {
    if (!now.has(k) && seen.has(k)) logger.info('value plausible again', { code: f.code, point: f.point, ...(f.index ? { index: f.index } : {}) });
  }
  for (const k of [...open.keys()]) if (!now.has(k) && seen.has(k)) open.delete(k);
  for (const [k, f] of now) open.set(k, f);
}
