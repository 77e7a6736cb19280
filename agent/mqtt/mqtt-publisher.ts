import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { BrokerConnectionState, OutgoingMessage, Publisher, PublisherState } from '../core/publisher.js';
import { encodeGatewayStatus } from './json-encoder.js';
import type { Topics } from './topics.js';

export interface MqttTlsOptions {
  /** PEM contents (not paths): the runtime reads the files and resolves secret references. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export interface MqttPublisherOptions {
  /** mqtt://, mqtts://, tcp://, ssl://, ws:// or wss:// */
  url: string;
  clientId: string;
  username?: string;
  /** Resolved secret; never logged. */
  password?: string;
  tls?: MqttTlsOptions;
  keepaliveS?: number;
  /** Default true: the gateway's own outbox is the durable queue, not the broker session. */
  cleanSession?: boolean;
  /** `publish` rejects if PUBACKs have not all arrived within this. Default 10 000. */
  publishTimeoutMs?: number;
  /** QoS 1 messages awaiting PUBACK at once; further messages wait their turn. Default 64. */
  inflight?: number;
  /** Delay between connection attempts (also after the broker rejected the credentials). Default 5 000. */
  reconnectPeriodMs?: number;
  /** Give up a connection attempt without CONNACK after this. Default 10 000. */
  connectTimeoutMs?: number;
  /** Bounds how long `stop()` waits for the offline status and a clean disconnect. Default 2 000. */
  stopTimeoutMs?: number;
  topics: Topics;
  /** allbit version, published in the online status. */
  version: string;
  /** The outbox's id (`outbox.stats().outboxId`), published in the online status so consumers can tell a new outbox. */
  outboxId?: string;
  clock: Clock;
  logger: Logger;
}

interface Job {
  message: OutgoingMessage;
  call: PublishCall;
  sent: boolean;
  settled: boolean;
  /** What MQTT.js calls back on PUBACK (or failure); also how its entry in `client.outgoing` is found. */
  callback: ((error?: Error) => void) | null;
  /** The packet id MQTT.js gave the message, once handed over. */
  messageId: number | null;
}

interface PublishCall {
  remaining: number;
  settled: boolean;
  timer: TimerHandle | null;
  jobs: Job[];
  resolve(): void;
  reject(error: Error): void;
}

const AUTH_REJECTED_CODES = new Set([4, 5, 134, 135]);

/**
 * The Publisher over MQTT.js (MQTT 3.1.1).
 *
 * - Last will: retained `{state:'offline', reason:'connection-lost'}` on the gateway status topic.
 *   After every CONNACK: retained `{state:'online', ts, version}`, then the `onConnect` listeners
 *   (which republish retained device statuses), then `onStateChange` listeners see 'connected'.
 * - `publish` hands at most `inflight` messages to MQTT.js at a time and settles on the PUBACKs;
 *   it rejects at once when the link drops ('close') or after `publishTimeoutMs`, because MQTT.js
 *   otherwise keeps a QoS 1 callback pending until some later reconnection.
 * - The forwarder is the only thing that resends. MQTT.js keeps every unacknowledged QoS 1 message
 *   in `client.outgoing` and its outgoing store and replays them after a reconnection — outside the
 *   inflight cap and the drain rate, not flagged historical, and growing without bound while a
 *   broker withholds PUBACKs. So a message given up (timeout, lost link) is removed from MQTT.js
 *   at once, and on 'close' whatever is left there is removed too. A PUBACK that arrives after the
 *   removal is ignored by MQTT.js; its packet ids run sequentially through 65 535, so it cannot
 *   acknowledge a newer message. (With a persistent session the broker keeps no state for QoS 1
 *   messages it received, so dropping the replay is safe there as well.)
 * - Reconnection is MQTT.js's (`reconnectPeriodMs`), also after CONNACK refusals, so wrong
 *   credentials retry at that pace, never in a busy loop.
 */
export class MqttPublisher implements Publisher {
  private client: MqttClient | null = null;
  /** Topics the gateway listens on (commands), subscribed again after every connection. */
  private readonly subscriptions = new Map<string, (payload: Buffer) => void>();
  private current: PublisherState;
  private readonly stateListeners: ((state: PublisherState) => void)[] = [];
  private readonly connectListeners: (() => void | Promise<void>)[] = [];
  private readonly queue: Job[] = [];
  private readonly calls = new Set<PublishCall>();
  private inFlight = 0;
  private stopping = false;
  private attempts = 0;
  private readonly logger: Logger;
  private readonly publishTimeoutMs: number;
  private readonly inflightLimit: number;

  constructor(private readonly options: MqttPublisherOptions) {
    this.logger = options.logger.child({ component: 'mqtt', broker: redactUrl(options.url), clientId: options.clientId });
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.inflightLimit = Math.max(1, options.inflight ?? 64);
    this.current = { state: 'disconnected', sinceMs: options.clock.now(), lastError: null, acked: 0 };
  }

  /** Connection attempts made since start (the first one plus every reconnect). */
  get connectAttempts(): number {
    return this.attempts;
  }

  /** Runs after every (re)connection, once the online status has been handed to the client. */
  onConnect(listener: () => void | Promise<void>): void {
    this.connectListeners.push(listener);
  }

  onStateChange(listener: (state: PublisherState) => void): void {
    this.stateListeners.push(listener);
  }

  state(): PublisherState {
    return { ...this.current };
  }

  start(): void {
    if (this.client) return;
    const { options } = this;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      keepalive: options.keepaliveS ?? 30,
      clean: options.cleanSession ?? true,
      reconnectPeriod: options.reconnectPeriodMs ?? 5_000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      reconnectOnConnackError: true,
      protocolVersion: 4,
      will: {
        topic: options.topics.gatewayStatus,
        payload: Buffer.from(encodeGatewayStatus({ gateway: options.topics.gatewayId, state: 'offline', reason: 'connection-lost' })),
        qos: 1,
        retain: true,
      },
      ...(options.tls
        ? { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: options.tls.rejectUnauthorized ?? true }
        : {}),
    };
    this.attempts = 1;
    this.setState('connecting');
    this.logger.info({ username: options.username }, 'connecting to the MQTT broker');
    const client = mqtt.connect(options.url, clientOptions);
    this.client = client;
    client.on('connect', () => this.handleConnect());
    client.on('reconnect', () => {
      this.attempts += 1;
      this.setState('connecting');
    });
    client.on('close', () => this.handleClose());
    client.on('error', (error) => this.handleError(error));
    client.on('message', (topic, payload) => {
      const handler = this.subscriptions.get(topic);
      if (!handler) return;
      try {
        handler(payload);
      } catch (error) {
        this.logger.error({ err: messageOf(error), topic }, 'a command handler failed');
      }
    });
  }

  /**
   * Listens on `topic` (QoS 1) from now on, across reconnections: `handler` gets every message's
   * payload. For command topics; one handler per topic.
   */
  listen(topic: string, handler: (payload: Buffer) => void): void {
    this.subscriptions.set(topic, handler);
    if (this.current.state === 'connected') this.subscribeTo(topic);
  }

  private subscribeTo(topic: string): void {
    this.client?.subscribe(topic, { qos: 1 }, (error) => {
      if (error) this.logger.warn({ err: messageOf(error), topic }, 'could not subscribe to a command topic');
    });
  }

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (this.current.state !== 'connected' || !this.client || this.stopping) {
      return Promise.reject(new Error(`MQTT ${redactUrl(this.options.url)}: not connected (${this.current.state}); ${messages.length} message(s) not sent`));
    }
    return this.enqueue(messages);
  }

  /** Queues messages behind the inflight cap, settled by their PUBACKs or the timeout. */
  private enqueue(messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const call: PublishCall = { remaining: messages.length, settled: false, timer: null, jobs: [], resolve, reject };
      call.jobs = messages.map((message) => ({ message, call, sent: false, settled: false, callback: null, messageId: null }));
      call.timer = this.options.clock.setTimeout(() => {
        call.timer = null;
        const unacked = call.remaining;
        this.failCall(call, new Error(`MQTT ${redactUrl(this.options.url)}: ${unacked} of ${messages.length} message(s) not acknowledged within ${this.publishTimeoutMs} ms`));
      }, this.publishTimeoutMs);
      this.calls.add(call);
      this.queue.push(...call.jobs);
      this.dispatch();
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const client = this.client;
    this.failAll(new Error(`MQTT ${redactUrl(this.options.url)}: publisher stopped`));
    if (client) {
      const stopTimeoutMs = this.options.stopTimeoutMs ?? 2_000;
      if (client.connected) {
        const offline = encodeGatewayStatus({
          gateway: this.options.topics.gatewayId,
          state: 'offline',
          ts: new Date(this.options.clock.now()).toISOString(),
          reason: 'stopped',
        });
        await this.bounded(stopTimeoutMs, (done) =>
          client.publish(this.options.topics.gatewayStatus, offline, { qos: 1, retain: true }, (error) => {
            if (error) this.logger.warn({ err: error.message }, 'could not publish the offline status');
            done();
          }),
        );
        // Messages abandoned by a timeout would make a graceful end wait for their PUBACK forever;
        // they are still in the outbox and will be resent after restart.
        for (const messageId of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(messageId));
        await this.bounded(stopTimeoutMs, (done) => client.end(false, {}, () => done()));
      }
      client.removeAllListeners();
      client.on('error', () => {});
      await this.bounded(stopTimeoutMs, (done) => client.end(true, {}, () => done()));
    }
    this.setState('closed');
  }

  private handleConnect(): void {
    if (this.stopping) return;
    this.current.lastError = null;
    this.logger.info({}, 'connected to the MQTT broker');
    const online = encodeGatewayStatus({
      gateway: this.options.topics.gatewayId,
      state: 'online',
      ts: new Date(this.options.clock.now()).toISOString(),
      version: this.options.version,
      ...(this.options.outboxId !== undefined ? { outbox: this.options.outboxId } : {}),
    });
    // Through the queue like everything else, so it too times out and is given up (never replayed by MQTT.js).
    this.enqueue([{ topic: this.options.topics.gatewayStatus, payload: online, qos: 1, retain: true }]).catch((error: unknown) =>
      this.logger.warn({ err: messageOf(error) }, 'could not publish the online status'),
    );
    this.setState('connected');
    for (const topic of this.subscriptions.keys()) this.subscribeTo(topic);
    for (const listener of this.connectListeners) {
      try {
        Promise.resolve(listener()).catch((error: unknown) => this.logger.error({ err: messageOf(error) }, 'an onConnect listener failed'));
      } catch (error) {
        this.logger.error({ err: messageOf(error) }, 'an onConnect listener failed');
      }
    }
  }

  private handleClose(): void {
    this.failAll(new Error(`MQTT ${redactUrl(this.options.url)}: connection lost before the broker acknowledged`));
    // Nothing MQTT.js still holds may be replayed on the next connection (see the class comment).
    const client = this.client;
    if (client && !this.stopping) for (const messageId of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(messageId));
    if (this.stopping) return;
    if (this.current.state !== 'disconnected') {
      this.logger.warn({ lastError: this.current.lastError }, 'disconnected from the MQTT broker');
      this.setState('disconnected');
    }
  }

  private handleError(error: Error & { code?: unknown }): void {
    const code = typeof error.code === 'number' ? error.code : null;
    let text: string;
    if (code !== null && AUTH_REJECTED_CODES.has(code)) {
      text = this.options.username !== undefined
        ? `broker rejected the credentials for user ${this.options.username}`
        : 'broker rejected the connection: not authorized (no username configured)';
    } else {
      text = `MQTT ${redactUrl(this.options.url)}: ${error.message}`;
    }
    // error.message never holds the password (MQTT.js reports reason codes and socket errors).
    if (text !== this.current.lastError) this.logger.warn({ code }, text);
    this.current.lastError = text;
    if (this.current.state !== 'disconnected') this.setState('disconnected');
    else this.notify();
  }

  private dispatch(): void {
    const client = this.client;
    // Never hand MQTT.js a message while the link is down: it would store it and replay it later.
    if (!client || !client.connected) return;
    while (this.inFlight < this.inflightLimit && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.settled || job.call.settled) continue;
      job.sent = true;
      this.inFlight += 1;
      const { topic, payload, qos, retain } = job.message;
      const callback = (error?: Error) => this.settleJob(job, error ?? null);
      job.callback = callback;
      client.publish(topic, payload, { qos, retain }, callback);
      if (!job.settled) job.messageId = outgoingIdOf(client, callback);
    }
  }

  /** Removes given-up messages from MQTT.js, so that it neither waits for nor replays them. */
  private forget(jobs: readonly Job[]): void {
    const client = this.client;
    if (!client) return;
    for (const job of jobs) {
      // The id is known unless MQTT.js deferred the publish; then find it by its callback.
      const messageId = job.messageId ?? (job.callback ? outgoingIdOf(client, job.callback) : null);
      if (messageId !== null && client.outgoing[messageId]?.cb === job.callback) client.removeOutgoingMessage(messageId);
    }
  }

  private settleJob(job: Job, error: Error | null): void {
    if (job.settled) return; // already failed by a timeout or a lost link
    job.settled = true;
    if (job.sent) this.inFlight -= 1;
    const call = job.call;
    if (error) {
      this.failCall(call, new Error(`MQTT ${redactUrl(this.options.url)}: publish to ${job.message.topic} failed: ${error.message}`, { cause: error }));
    } else {
      this.current.acked += 1;
      call.remaining -= 1;
      if (call.remaining === 0 && !call.settled) {
        call.settled = true;
        this.calls.delete(call);
        if (call.timer) this.options.clock.clearTimeout(call.timer);
        call.resolve();
      }
    }
    this.dispatch();
  }

  /** Settles a call as failed and frees the inflight slots of its unacknowledged messages; late PUBACKs are ignored. */
  private failCall(call: PublishCall, error: Error): void {
    if (call.settled) return;
    call.settled = true;
    this.calls.delete(call);
    if (call.timer) this.options.clock.clearTimeout(call.timer);
    const abandoned: Job[] = [];
    for (const job of call.jobs) {
      if (job.settled) continue;
      job.settled = true;
      if (job.sent) {
        this.inFlight -= 1;
        abandoned.push(job);
      }
    }
    this.forget(abandoned);
    call.reject(error);
    this.dispatch();
  }

  private failAll(error: Error): void {
    for (const call of [...this.calls]) this.failCall(call, error);
    this.queue.length = 0;
  }

  private setState(state: BrokerConnectionState): void {
    if (this.current.state === state) return;
    this.current = { ...this.current, state, sinceMs: this.options.clock.now() };
    this.notify();
  }

  private notify(): void {
    const snapshot = this.state();
    for (const listener of this.stateListeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.logger.error({ err: messageOf(error) }, 'a state listener failed');
      }
    }
  }

  private bounded(ms: number, start: (done: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        this.options.clock.clearTimeout(timer);
        resolve();
      };
      const timer = this.options.clock.setTimeout(done, ms);
      try {
        start(done);
      } catch (error) {
        this.logger.warn({ err: messageOf(error) }, 'MQTT client call failed during stop');
        done();
      }
    });
  }
}

/** The packet id under which MQTT.js holds the message published with `callback`, or null. */
function outgoingIdOf(client: MqttClient, callback: (error?: Error) => void): number | null {
  for (const [messageId, entry] of Object.entries(client.outgoing)) {
    if (entry.cb === callback) return Number(messageId);
  }
  return null;
}

/** The URL without user info, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
