import type { Logger } from '../shared/log.js';

/**
 * A child logger made on first use. Every device's reader logs under its own id, but most never
 * log at all; a child of the contract logger costs about 2.4 KB, so 10,000 devices would hold
 * 24 MB of loggers. This holds two references until the first line.
 */
export class LazyChildLogger implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly fields: Record<string, unknown>,
  ) {}

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.logger().debug(msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.logger().info(msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.logger().warn(msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.logger().error(msg, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return this.logger().child(fields);
  }

  private logger(): Logger {
    return (this.made ??= this.parent.child(this.fields));
  }
}
