import { inspect } from 'node:util';

/**
 * A resolved secret. It never prints itself: logging, JSON serialisation and util.inspect all
 * show "[redacted]", so a config object can be logged or shown on the status page safely.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string, readonly source: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
