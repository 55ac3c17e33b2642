import type { AlertMessage } from '../../../contract/messages.js';
import { alertMessage } from '../alert-message.js';
import type { Delivery, Notifier, SendResult } from './notifier.js';

/**
 * The retained alert topic `dcim/v1/<site>/alerts/<alert id>` (the MQTT contract): the alert's message
 * while it fires, an empty retained payload once it resolves (which deletes the retained message,
 * so a dashboard subscribing to `dcim/v1/+/alerts/+` sees exactly the firing alerts). The publish
 * goes through the collector's one MQTT wrapper; it resolves on the broker's PUBACK.
 */
export type AlertPublish = (site: string, alert_id: string, msg: AlertMessage | null) => Promise<void>;

export class MqttAlertNotifier implements Notifier {
  readonly name = 'mqtt';
  readonly batch_size = 50;

  /**
   * `timeout_ms`: while the broker is away mqtt.js holds a QoS 1 publish until it reconnects; the
   * attempt is counted as failed after this long and retried (a retained set or clear is
   * idempotent), so delivery never waits on one publish and shutdown never hangs on it.
   */
  constructor(
    private readonly publish: AlertPublish,
    private readonly timeout_ms = 10_000,
  ) {}

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const delivered: string[] = [];
    for (const d of batch) {
      const site = d.record.labels.site ?? '';
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PUBACK within ${this.timeout_ms} ms`)), this.timeout_ms);
      });
      try {
        await Promise.race([this.publish(site, d.record.id, d.state === 'firing' ? alertMessage(d.record, 'firing') : null), timeout]);
      } catch (e) {
        return { delivered, rejected: [], failure: { message: (e as Error).message, retryable: true } };
      } finally {
        clearTimeout(timer);
      }
      delivered.push(d.record.id);
    }
    return { delivered, rejected: [] };
  }
}
