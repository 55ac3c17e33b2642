import { describe, expect, it } from 'vitest';
import { memoryLogger, redactCredentials } from '../../shared/log.js';

/**
 * The logger's last line of defence: whatever a caller passes, a URL's password and a field named
 * like a secret never reach the log line.
 */
describe('logger redaction', () => {
  it('hides the password of any URL in the message, a field or an error, keeping scheme, user and host', () => {
    const log = memoryLogger();
    log.error('cannot reach mqtts://agent-7:s3cr%40t@broker.example:8883', {
      url: 'mqtt://collector:hunter2@127.0.0.1:1883',
      error: new Error('connect ECONNREFUSED for http://u:p4ss@127.0.0.1:8086/write?db=dcim'),
      note: 'two: mqtt://a:x@h1 and ws://b:y@h2/mqtt',
    });
    const line = JSON.stringify(log.lines[0]);
    for (const secret of ['s3cr%40t', 'hunter2', 'p4ss', 'a:x@', 'b:y@']) expect(line).not.toContain(secret);
    expect(log.lines[0]).toMatchObject({
      msg: 'cannot reach mqtts://agent-7:***@broker.example:8883',
      url: 'mqtt://collector:***@127.0.0.1:1883',
      error: { message: 'connect ECONNREFUSED for http://u:***@127.0.0.1:8086/write?db=dcim' },
      note: 'two: mqtt://a:***@h1 and ws://b:***@h2/mqtt',
    });
  });

  it('leaves URLs without a password and other text alone', () => {
    for (const text of ['mqtt://127.0.0.1:1883', 'mqtt://user@host', 'ratio 3:2 @ noon', 'http://host/a:b@c']) expect(redactCredentials(text)).toBe(text);
  });

  it('redacts fields named like secrets', () => {
    const log = memoryLogger();
    log.info('config', { password: 'x', community: 'public', token: 't', site: 's1' });
    expect(log.lines[0]).toMatchObject({ password: '[redacted]', community: '[redacted]', token: '[redacted]', site: 's1' });
  });
});
