import { createHash } from 'node:crypto';

/**
 * A stable alert id: the rule id and a hash of the label set, so the same rule on the same place
 * is the same alert across evaluations, restarts and collectors (two active-active collectors
 * publish the same retained topic and the same Alertmanager alert), while any other label set is
 * another alert. It is also an MQTT topic level: `[a-z0-9_-]`, at most 57 characters.
 */
export function alertId(rule: string, labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\n');
  const hash = createHash('sha256').update(`${rule}\n${canonical}`).digest('hex').slice(0, 16);
  return `${rule}-${hash}`;
}
