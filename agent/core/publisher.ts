export type BrokerConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface PublisherState {
  state: BrokerConnectionState;
  /** When the state last changed, ms since epoch. */
  sinceMs: number;
  lastError: string | null;
  /** Messages acknowledged by the broker since start. */
  acked: number;
}

export interface OutgoingMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain: boolean;
}

/**
 * The link to the MQTT broker.
 *
 * Guarantees:
 * - `publish` resolves only when the broker has acknowledged every message (PUBACK for QoS 1);
 *   it rejects when the link drops or the acknowledgement does not come within the timeout,
 *   never hangs. Messages of a rejected publish are given up entirely: the transport does not
 *   resend them by itself (the caller, which still holds them in the outbox, does).
 * - The publisher reconnects by itself; `onConnect` listeners run after every (re)connection,
 *   so retained state can be republished.
 */
export interface Publisher {
  start(): void;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  state(): PublisherState;
  onStateChange(listener: (state: PublisherState) => void): void;
  /** Publishes the offline status, then disconnects. */
  stop(): Promise<void>;
}
