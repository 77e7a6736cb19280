/**
 * OPC UA driver on node-opcua-client (loaded lazily at the first `open()`, see ./library.ts).
 *
 * Connection (`open()`, see ./session.ts): PKI store at the configured folder, the server
 * certificate checked against `<pkiDir>/trusted/` (refused with its thumbprint and the trust
 * command), secure channel, session with the configured identity; then NodeIds written with a
 * namespace URI (nsu=…) are resolved through the server's NamespaceArray, and ONE subscription
 * (publishing interval = `publishingIntervalMs`) gets one monitored item per 'subscribe' tag
 * (sampling interval, queue size, discardOldest, an absolute DataChangeFilter deadband when
 * `serverDeadband` > 0, source and server timestamps). Items with identical parameters go to the
 * server together (one CreateMonitoredItems call per parameter set, at most 500 items each).
 *
 * Reconnection is the scheduler's: node-opcua's own reconnection is off (`maxRetry: 0`). When the
 * connection drops (node-opcua's client 'connection_lost' / 'close', session 'session_closed' or
 * 'keepalive_failure', subscription 'terminated' / bad 'status_changed', a Read that fails because
 * session or channel are gone, two Read timeouts in a row, or a subscription silent for longer than
 * twice its keep-alive period plus the timeout) everything is torn down and `connected` becomes
 * false. The next `open()` builds client, session, subscription and EVERY monitored item anew —
 * a restarted server has forgotten them all, and node-opcua does not restore them by itself.
 *
 * Reads: a subscribed tag answers with the newest value the subscription delivered (bad
 * 'not-connected' until its first value arrives); 'read' tags are read with ONE Read service call
 * per cycle (maxAge 0, with the device timeout). `onData` listeners hear of new values at most
 * once per publish response (coalesced in a microtask), and of a lost connection. A `changedOnly`
 * read (the scheduler's cycle after onData) returns just the subscribed tags that changed since the
 * last read and sends nothing to the server: servers cap notifications per publish (node-opcua's at
 * 1000), so 10k changes arrive in ten responses — ten cycles of 1000 tags, not ten of 10k (measured:
 * agent CPU at 10k items 39 % → see docs/benchmarks.md).
 *
 * Requests in flight: the driver's own service calls (Read) are sequential, one at a time. The
 * subscription's Publish requests are node-opcua's and run beside them, as OPC UA intends.
 *
 * Counters (`stats()`): `requests` counts Read service calls; `publishResponses` the publish
 * responses (data and keep-alives) and `dataChanges` the values they carried. errors: status =
 * Bad status values delivered, config = nodes the server refused or that cannot be resolved,
 * comm = connections lost, timeout = Read timeouts, exception = Reads the server refused as a whole
 * (a ServiceFault such as BadTooManyOperations; the connection stays), decode = values that are not
 * one scalar.
 */
import type { Clock } from '../../agent/core/clock.js';
import type { DeviceSpec, OpcUaConnection as OpcUaConnectionSpec } from '../../agent/core/device.js';
import { zeroErrorCounts, type Driver, type DriverContext, type DriverErrorKind, type DriverStats, type ReadOptions, type ReadPlan } from '../../agent/core/driver.js';
import type { Logger } from '../../agent/core/logger.js';
import type { QualityReason } from '../../agent/core/quality.js';
import type { RawSample } from '../../agent/core/reading.js';
import { isOpcUaNode, type OpcUaNode, type Tag } from '../../agent/core/tag.js';
import type { ClientSubscription, DataValue, MonitoringParametersOptions, NodeId, ReadValueIdOptions } from 'node-opcua-client';
import { needsNamespaceArray, resolveNamespaceUri } from './node-id.js';
import { oneLineMessage, openSession, TimeoutError, withTimeout, type OpcUaConnection } from './session.js';
import { describeStatus, qualityOfStatus, severityOf, type OpcUaStatus } from './status.js';
import { convertVariant, timestampMsOf, type VariantLike } from './values.js';

export interface OpcUaDriverOptions {
  /** Consecutive Read timeouts after which the connection is closed (default 2, minimum 1). */
  maxConsecutiveTimeouts?: number;
}

export interface OpcUaDriverStats extends DriverStats {
  /** Publish responses received (data and keep-alives), all connections. */
  publishResponses: number;
  /** Values delivered by the subscription, all connections. */
  dataChanges: number;
  /** Monitored items the server accepted on the current connection. */
  monitoredItems: number;
}

/** The plan this driver builds; `read` accepts only the plan of its latest `plan()` call. */
export class OpcUaReadPlan implements ReadPlan {
  readonly tagCount: number;
  readonly requestCount: number;
  /** Tag indexes of 'subscribe' and of 'read' tags. */
  readonly subscribed: readonly number[];
  readonly polled: readonly number[];
  constructor(
    readonly owner: OpcUaDriver,
    readonly nodes: readonly OpcUaNode[],
  ) {
    this.tagCount = nodes.length;
    this.subscribed = nodes.flatMap((n, i) => (n.mode === 'subscribe' ? [i] : []));
    this.polled = nodes.flatMap((n, i) => (n.mode === 'read' ? [i] : []));
    this.requestCount = this.polled.length > 0 ? 1 : 0;
  }
  /** Same nodes with the same parameters, in the same order. */
  sameNodes(other: OpcUaReadPlan): boolean {
    return other === this || (other.nodes.length === this.nodes.length && JSON.stringify(other.nodes) === JSON.stringify(this.nodes));
  }
}

/** One tag on one connection. */
interface Slot {
  /** Resolved NodeId, when the tag's NodeId could be resolved. */
  nodeId: NodeId | null;
  /** Why the tag has no value on this connection (refused or unresolvable node), if so. */
  refused: { reason: QualityReason; detail: string } | null;
  /** Subscribed tags: the newest value delivered. */
  latest: RawSample | null;
}

/** Everything one connection holds; replaced whole on every open(). */
interface Link {
  connection: OpcUaConnection;
  plan: OpcUaReadPlan;
  slots: Slot[];
  subscription: ClientSubscription | null;
  monitoredItems: number;
  /** Monotonic time of the last publish response (data or keep-alive). */
  lastPublishMono: number;
  /** A live subscription answers at least this often (2 × keep-alive period + timeout). */
  maxSilenceMs: number;
  /** Set when the connection was lost before the link became current. */
  lostWhy: string | null;
  /** Torn down (lost or closed): late events from node-opcua are ignored. */
  disposed: boolean;
  /** While open() waits for the first value of every item: called on each arriving value. */
  firstValuesWaiter: (() => void) | null;
  /** Subscribed tags whose value arrived since the last read (for `changedOnly` reads), as flags and in arrival order. */
  changed: Uint8Array;
  changedList: number[];
}

/** Errors that mean the session or channel is gone (anything else with a Bad status is a refused request). */
const CONNECTION_GONE = /BadSession|BadSecureChannel|BadConnection|BadNotConnected|BadCommunication|BadServerHalted|BadShutdown|BadTcp|SecureChannel|client state|closed|abort|socket|ECONN|EPIPE/i;

function classifyReadFailure(err: unknown, message: string): 'timeout' | 'refused' | 'connection' {
  if (err instanceof TimeoutError || /BadTimeout|timed out/i.test(message)) return 'timeout';
  if (/\bBad[A-Z]\w*/.test(message) && !CONNECTION_GONE.test(message)) return 'refused';
  return 'connection';
}

/** Largest CreateMonitoredItems request sent at once (servers limit MaxMonitoredItemsPerCall). */
const MONITORED_ITEMS_PER_CALL = 500;

export class OpcUaDriver implements Driver {
  private readonly connection: OpcUaConnectionSpec;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** The context's logger, not bound to this device: node-opcua's warnings are process-wide. */
  private readonly libraryLogger: Logger;
  private readonly maxConsecutiveTimeouts: number;

  private activePlan: OpcUaReadPlan | null = null;
  private link: Link | null = null;
  private isConnected = false;
  private everConnected = false;
  /** Bumped by close(): an open() of an older generation is abandoned. */
  private generation = 0;
  private opening: Promise<void> | null = null;
  private readonly disposing = new Set<Promise<void>>();
  private readChain: Promise<unknown> = Promise.resolve();
  private consecutiveTimeouts = 0;
  private listener: (() => void) | null = null;
  private notifyQueued = false;

  private requestTotal = 0;
  private publishResponses = 0;
  private dataChanges = 0;
  private readonly errorCounts: Record<DriverErrorKind, number> = zeroErrorCounts();
  private lastLatencyMs: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly device: DeviceSpec,
    context: DriverContext,
    options: OpcUaDriverOptions = {},
  ) {
    if (device.connection.protocol !== 'opcua') {
      throw new Error(`device ${device.id}: OpcUaDriver cannot serve protocol ${device.connection.protocol}`);
    }
    this.connection = device.connection;
    this.clock = context.clock;
    this.logger = context.logger.child({ device: device.id, driver: 'opcua' });
    this.libraryLogger = context.logger;
    this.maxConsecutiveTimeouts = Math.max(1, options.maxConsecutiveTimeouts ?? 2);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  private get who(): string {
    return `device ${this.device.id}`;
  }

  onData(listener: () => void): void {
    this.listener = listener;
  }

  plan(tags: readonly Tag[]): OpcUaReadPlan {
    const nodes = tags.map((tag) => {
      if (!isOpcUaNode(tag.source)) throw new Error(`${this.who}: tag ${tag.name} is not an OPC UA tag`);
      return tag.source;
    });
    const plan = new OpcUaReadPlan(this, nodes);
    const link = this.link;
    if (link) {
      if (link.plan.sameNodes(plan)) {
        link.plan = plan;
      } else {
        // The monitored items belong to the old tag list: reconnect with the new one.
        this.detach(link);
        this.track(this.dispose(link, true));
      }
    }
    this.activePlan = plan;
    return plan;
  }

  open(): Promise<void> {
    if (this.link) return Promise.resolve();
    if (!this.opening) {
      const attempt = this.openNow(++this.generation).finally(() => {
        if (this.opening === attempt) this.opening = null;
      });
      this.opening = attempt;
    }
    return this.opening;
  }

  private async openNow(generation: number): Promise<void> {
    await Promise.all(this.disposing);
    const plan = this.activePlan ?? this.plan(this.device.tags);
    const abandoned = () => generation !== this.generation;
    let link: Link | null = null;
    let earlyLoss: string | null = null;
    let connection: OpcUaConnection;
    try {
      connection = await openSession({
        who: this.who,
        endpointUrl: this.connection.endpointUrl,
        securityMode: this.connection.securityMode,
        securityPolicy: this.connection.securityPolicy,
        pkiDir: this.connection.pkiDir,
        identity: this.connection.identity,
        timeoutMs: this.device.timeoutMs,
        sessionTimeoutMs: this.connection.sessionTimeoutMs,
        clientName: `allbit ${this.device.id}`,
        clock: this.clock,
        logger: this.logger,
        libraryLogger: this.libraryLogger,
        abandoned,
        onLost: (why) => {
          if (link) this.lose(link, why);
          else earlyLoss = why;
        },
      });
    } catch (err) {
      this.lastError = oneLineMessage(err);
      if (err instanceof TimeoutError || (err as Error).cause instanceof TimeoutError) this.errorCounts.timeout++;
      throw err;
    }
    const current: Link = {
      connection,
      plan,
      slots: plan.nodes.map(() => ({ nodeId: null, refused: null, latest: null })),
      subscription: null,
      monitoredItems: 0,
      lastPublishMono: this.clock.monotonicMs(),
      maxSilenceMs: Number.POSITIVE_INFINITY,
      lostWhy: null,
      disposed: false,
      firstValuesWaiter: null,
      changed: new Uint8Array(plan.nodes.length),
      changedList: [],
    };
    link = current;
    try {
      await this.resolveNodes(current);
      if (plan.subscribed.some((i) => current.slots[i].refused === null)) {
        await this.subscribe(current);
        await this.awaitFirstValues(current);
      }
      const lost = earlyLoss ?? current.lostWhy;
      if (lost) throw new Error(`${this.who}: ${lost} while setting up`);
      if (abandoned()) throw new Error(`${this.who}: closed while connecting to ${this.connection.endpointUrl}`);
    } catch (err) {
      await this.dispose(current, false);
      const message = oneLineMessage(err);
      const error = message.startsWith(this.who) ? (err as Error) : new Error(`${this.who}: ${this.connection.endpointUrl}: ${message}`, { cause: err });
      this.lastError = error.message;
      throw error;
    }
    if (this.activePlan !== plan) {
      // plan() was called with other tags while this connection was being set up.
      await this.dispose(current, true);
      throw new Error(`${this.who}: tags changed while connecting to ${this.connection.endpointUrl}`);
    }
    this.link = current;
    this.isConnected = true;
    this.everConnected = true;
    this.consecutiveTimeouts = 0;
    current.lastPublishMono = this.clock.monotonicMs();
    const certificate = connection.serverCertificate ? ` (server certificate ${connection.serverCertificate.thumbprint})` : '';
    this.logger.info(
      { endpoint: this.connection.endpointUrl, monitoredItems: current.monitoredItems, polled: plan.polled.length },
      `connected${certificate}`,
    );
  }

  /**
   * The server sends every monitored item's current value in its first publish response. Waiting
   * for it (at most one publishing interval plus the timeout) keeps the first cycle after a
   * (re)connect from reporting every tag as "waiting for the first value".
   */
  private async awaitFirstValues(link: Link): Promise<void> {
    const waiting = (): boolean => link.plan.subscribed.some((i) => link.slots[i].refused === null && link.slots[i].latest === null);
    if (!waiting()) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        link.firstValuesWaiter = null;
        resolve();
      };
      const timer = this.clock.setTimeout(done, this.connection.publishingIntervalMs + this.device.timeoutMs);
      link.firstValuesWaiter = () => {
        if (link.disposed || link.lostWhy !== null || !waiting()) done();
      };
    });
  }

  /** NodeId strings → NodeIds, with nsu= URIs turned into today's namespace indexes. */
  private async resolveNodes(link: Link): Promise<void> {
    const { lib, session } = link.connection;
    const texts = link.plan.nodes.map((n) => n.nodeId);
    let namespaceArray: string[] = [];
    if (needsNamespaceArray(texts)) {
      namespaceArray = await withTimeout(session.readNamespaceArray(), this.device.timeoutMs, this.clock, 'reading the NamespaceArray');
    }
    texts.forEach((text, i) => {
      const slot = link.slots[i];
      const resolved = resolveNamespaceUri(text, namespaceArray);
      if (!resolved.ok) {
        slot.refused = { reason: 'not-found', detail: `${text}: ${resolved.error}` };
        this.errorCounts.config++;
        return;
      }
      try {
        slot.nodeId = lib.client.coerceNodeId(resolved.text);
      } catch (err) {
        slot.refused = { reason: 'not-found', detail: `${text}: not a valid NodeId (${oneLineMessage(err)})` };
        this.errorCounts.config++;
      }
    });
  }

  private async subscribe(link: Link): Promise<void> {
    const { lib, session } = link.connection;
    const { publishingIntervalMs, sessionTimeoutMs } = this.connection;
    const timeoutMs = this.device.timeoutMs;
    const interval = Math.max(1, publishingIntervalMs);
    const maxKeepAliveCount = Math.max(3, Math.min(10, Math.floor(sessionTimeoutMs / interval / 4)));
    const subscription = await withTimeout(
      session.createSubscription2({
        requestedPublishingInterval: interval,
        requestedMaxKeepAliveCount: maxKeepAliveCount,
        requestedLifetimeCount: Math.max(3 * maxKeepAliveCount, Math.ceil(sessionTimeoutMs / interval)),
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 1,
      }),
      timeoutMs,
      this.clock,
      'CreateSubscription',
    );
    link.subscription = subscription;
    // Revised by the server: a live subscription answers (with data or a keep-alive) this often.
    link.maxSilenceMs = 2 * subscription.publishingInterval * subscription.maxKeepAliveCount + timeoutMs;
    subscription.on('raw_notification', () => {
      if (link.disposed) return;
      link.lastPublishMono = this.clock.monotonicMs();
      this.publishResponses++;
    });
    subscription.on('terminated', () => this.lose(link, `subscription on ${this.connection.endpointUrl} terminated`));
    subscription.on('status_changed', (status: OpcUaStatus) => {
      if (severityOf(status.value) === 'bad') this.lose(link, `subscription on ${this.connection.endpointUrl} ended: ${describeStatus(status)}`);
    });
    subscription.on('internal_error', (err: Error) => this.lose(link, `subscription on ${this.connection.endpointUrl} failed: ${oneLineMessage(err)}`));
    subscription.on('error', (err: Error) => this.lose(link, `subscription on ${this.connection.endpointUrl} failed: ${oneLineMessage(err)}`));

    // Tags with identical monitoring parameters are created together.
    const groups = new Map<string, number[]>();
    for (const i of link.plan.subscribed) {
      if (link.slots[i].refused) continue;
      const n = link.plan.nodes[i];
      const key = `${n.samplingIntervalMs}|${n.queueSize}|${n.serverDeadband}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    }
    for (const indexes of groups.values()) {
      const node = link.plan.nodes[indexes[0]];
      const parameters: MonitoringParametersOptions = {
        samplingInterval: node.samplingIntervalMs,
        queueSize: node.queueSize,
        discardOldest: true,
        filter:
          node.serverDeadband > 0
            ? new lib.client.DataChangeFilter({
                trigger: lib.client.DataChangeTrigger.StatusValue,
                deadbandType: lib.client.DeadbandType.Absolute,
                deadbandValue: node.serverDeadband,
              })
            : null,
      };
      for (let start = 0; start < indexes.length; start += MONITORED_ITEMS_PER_CALL) {
        const chunk = indexes.slice(start, start + MONITORED_ITEMS_PER_CALL);
        const items: ReadValueIdOptions[] = chunk.map((i) => ({ nodeId: link.slots[i].nodeId!, attributeId: lib.client.AttributeIds.Value }));
        // Listen before the items exist: the first values can be processed before an awaited
        // monitorItems() would hand the group back.
        const group = lib.client.ClientMonitoredItemGroup.create(subscription, items, parameters, lib.client.TimestampsToReturn.Both);
        group.on('changed', (_item: unknown, dataValue: DataValue, k: number) => this.onValue(link, chunk[k], dataValue));
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            group.once('initialized', () => resolve());
            group.once('terminated', (err?: Error) => reject(err ?? new Error('monitored items terminated while being created')));
          }),
          timeoutMs,
          this.clock,
          `CreateMonitoredItems (${items.length} items)`,
        );
        group.monitoredItems.forEach((item, k) => {
          const i = chunk[k];
          if (item.statusCode.isGood()) {
            link.monitoredItems++;
            return;
          }
          const status = { value: item.statusCode.value, name: item.statusCode.name };
          const mapped = qualityOfStatus(status);
          const reason: QualityReason = mapped.reason === 'not-found' || /^BadAttributeIdInvalid/.test(status.name) ? 'not-found' : 'device-status';
          link.slots[i].refused = { reason, detail: `${link.plan.nodes[i].nodeId}: monitored item refused by the server: ${describeStatus(status)}` };
          this.errorCounts.config++;
          this.lastError = `${this.who}: ${link.slots[i].refused!.detail}`;
          this.logger.warn({ nodeId: link.plan.nodes[i].nodeId, status: describeStatus(status) }, 'monitored item refused');
        });
      }
    }
  }

  /** Also while the link is being set up: the server sends a value's first notification only once. */
  private onValue(link: Link, tagIndex: number, dataValue: DataValue): void {
    if (link.disposed) return;
    this.dataChanges++;
    link.slots[tagIndex].latest = this.sampleOf(link, tagIndex, dataValue, this.clock.now());
    if (link.changed[tagIndex] === 0) {
      link.changed[tagIndex] = 1;
      link.changedList.push(tagIndex);
    }
    link.firstValuesWaiter?.();
    if (this.link === link) this.notify();
  }

  /** One DataValue → one sample: quality from the status code, value converted, source timestamp first. */
  private sampleOf(link: Link, tagIndex: number, dataValue: DataValue, receivedMs: number): RawSample {
    const sourceMs = timestampMsOf(dataValue.sourceTimestamp);
    const serverMs = timestampMsOf(dataValue.serverTimestamp);
    // Hot path (once per data change): a Good value becomes one object of one shape; the status's
    // name and the generic mapping are only looked at when the status is not plain Good.
    if (dataValue.statusCode.value === 0) {
      const converted = convertVariant(dataValue.value as VariantLike);
      if (converted.ok) {
        return { tagIndex, value: converted.value, quality: 'good', timestampMs: sourceMs ?? serverMs ?? receivedMs, serverTimestampMs: serverMs ?? undefined };
      }
    }
    const status: OpcUaStatus = { value: dataValue.statusCode.value, name: dataValue.statusCode.name };
    const base = {
      tagIndex,
      timestampMs: sourceMs ?? serverMs ?? receivedMs,
      ...(serverMs !== null ? { serverTimestampMs: serverMs } : {}),
    };
    const mapped = qualityOfStatus(status);
    if (mapped.quality === 'bad') {
      this.errorCounts.status++;
      return { ...base, quality: 'bad', reason: mapped.reason, detail: mapped.detail };
    }
    const converted = convertVariant(dataValue.value as VariantLike);
    if (!converted.ok) {
      this.errorCounts.decode++;
      const detail = `${link.plan.nodes[tagIndex].nodeId}: ${converted.error}`;
      this.lastError = `${this.who}: ${detail}`;
      return { ...base, quality: 'bad', reason: 'decode-error', detail };
    }
    return { ...base, value: converted.value, quality: mapped.quality, ...(mapped.reason ? { reason: mapped.reason, detail: mapped.detail } : {}) };
  }

  read(plan: ReadPlan, options?: ReadOptions): Promise<RawSample[]> {
    if (!(plan instanceof OpcUaReadPlan) || plan.owner !== this) {
      return Promise.reject(new Error(`${this.who}: read() needs a plan built by this driver's plan()`));
    }
    if (plan !== this.activePlan && !(this.activePlan && plan.sameNodes(this.activePlan))) {
      // The subscription follows the latest plan(); an older plan for other tags has no items.
      return Promise.reject(new Error(`${this.who}: read() needs a plan for the tags of the latest plan() call`));
    }
    const run = this.readChain.then(() => (options?.changedOnly ? this.readChanged(plan) : this.readNow(plan)));
    this.readChain = run.catch(() => {});
    return run;
  }

  /** Only the subscribed tags that changed since the last read; nothing is read from the server. */
  private readChanged(plan: OpcUaReadPlan): RawSample[] {
    if (this.link) this.checkAlive(this.link);
    const link = this.link;
    if (!link || !link.plan.sameNodes(plan)) return this.allDisconnected(plan);
    const samples: RawSample[] = [];
    for (const i of link.changedList) {
      link.changed[i] = 0;
      // Samples are never changed after they are made (each data change makes a new one): no copy.
      const latest = link.slots[i].latest;
      if (latest) samples.push(latest);
    }
    link.changedList = [];
    return samples;
  }

  private async readNow(plan: OpcUaReadPlan): Promise<RawSample[]> {
    if (this.link) this.checkAlive(this.link);
    const link = this.link;
    if (!link || !link.plan.sameNodes(plan)) return this.allDisconnected(plan);
    // A full read reports every value: nothing is left to report as changed.
    for (const i of link.changedList) link.changed[i] = 0;
    link.changedList = [];
    const samples = new Array<RawSample>(plan.tagCount);
    const nowMs = this.clock.now();
    for (const i of plan.subscribed) {
      const slot = link.slots[i];
      if (slot.refused) samples[i] = { tagIndex: i, quality: 'bad', reason: slot.refused.reason, detail: slot.refused.detail, timestampMs: nowMs };
      else if (slot.latest) samples[i] = { ...slot.latest };
      else samples[i] = { tagIndex: i, quality: 'bad', reason: 'not-connected', detail: `${plan.nodes[i].nodeId}: waiting for the first value`, timestampMs: nowMs };
    }
    if (plan.polled.length > 0) await this.readPolled(link, plan, samples);
    return samples;
  }

  /** The 'read' tags: one Read service call. */
  private async readPolled(link: Link, plan: OpcUaReadPlan, samples: RawSample[]): Promise<void> {
    const { lib, session } = link.connection;
    const indexes: number[] = [];
    for (const i of plan.polled) {
      const slot = link.slots[i];
      if (slot.refused) samples[i] = { tagIndex: i, quality: 'bad', reason: slot.refused.reason, detail: slot.refused.detail, timestampMs: this.clock.now() };
      else indexes.push(i);
    }
    if (indexes.length === 0) return;
    const nodesToRead: ReadValueIdOptions[] = indexes.map((i) => ({ nodeId: link.slots[i].nodeId!, attributeId: lib.client.AttributeIds.Value }));
    this.requestTotal++;
    const startedMono = this.clock.monotonicMs();
    let values: DataValue[];
    try {
      values = await withTimeout(session.read(nodesToRead, 0), this.device.timeoutMs, this.clock, `Read of ${indexes.length} nodes`);
      if (!Array.isArray(values) || values.length !== indexes.length) throw new Error(`Read answered ${Array.isArray(values) ? values.length : 'no'} values for ${indexes.length} nodes`);
    } catch (err) {
      const message = oneLineMessage(err);
      const failure = classifyReadFailure(err, message);
      const nowMs = this.clock.now();
      const detail = `${this.connection.endpointUrl}: ${failure === 'timeout' ? `no answer within ${this.device.timeoutMs} ms to ` : ''}${message}`;
      const reason: QualityReason = failure === 'timeout' ? 'timeout' : failure === 'refused' ? 'exception' : 'comm-lost';
      for (const i of indexes) samples[i] = { tagIndex: i, quality: 'bad', reason, detail, timestampMs: nowMs };
      this.lastError = `${this.who}: ${detail}`;
      if (failure === 'timeout') {
        this.errorCounts.timeout++;
        this.consecutiveTimeouts++;
        if (this.consecutiveTimeouts >= this.maxConsecutiveTimeouts) {
          this.lose(link, `closed the connection to ${this.connection.endpointUrl} after ${this.consecutiveTimeouts} Read timeouts in a row`);
        }
      } else if (failure === 'refused') {
        // A ServiceFault (BadTooManyOperations, …): the session is fine, the request was not.
        this.errorCounts.exception++;
        this.consecutiveTimeouts = 0;
      } else {
        this.lose(link, `Read on ${this.connection.endpointUrl} failed: ${message}`);
      }
      return;
    }
    this.lastLatencyMs = this.clock.monotonicMs() - startedMono;
    this.consecutiveTimeouts = 0;
    const receivedMs = this.clock.now();
    indexes.forEach((i, k) => {
      const status = values[k].statusCode;
      if (qualityOfStatus({ value: status.value, name: status.name }).reason === 'not-found') {
        // Like a refused monitored item: not asked again on this connection (a reconnect retries).
        const slot = link.slots[i];
        slot.refused = { reason: 'not-found', detail: `${plan.nodes[i].nodeId}: refused by the server: ${describeStatus(status)}` };
        this.errorCounts.config++;
        this.lastError = `${this.who}: ${slot.refused.detail}`;
        samples[i] = { tagIndex: i, quality: 'bad', reason: 'not-found', detail: slot.refused.detail, timestampMs: receivedMs };
        return;
      }
      samples[i] = this.sampleOf(link, i, values[k], receivedMs);
    });
  }

  /** A subscription that stopped answering (not even keep-alives) is a dead connection. */
  private checkAlive(link: Link): void {
    if (!link.subscription) return;
    const silentMs = this.clock.monotonicMs() - link.lastPublishMono;
    if (silentMs > link.maxSilenceMs) {
      this.lose(link, `no publish response from ${this.connection.endpointUrl} for ${Math.round(silentMs)} ms`);
    }
  }

  private allDisconnected(plan: OpcUaReadPlan): RawSample[] {
    const reason: QualityReason = this.everConnected ? 'comm-lost' : 'not-connected';
    const detail = this.everConnected ? (this.lastError ?? `not connected to ${this.connection.endpointUrl}`) : `not yet connected to ${this.connection.endpointUrl}`;
    const timestampMs = this.clock.now();
    return plan.nodes.map((_, tagIndex) => ({ tagIndex, quality: 'bad' as const, reason, detail, timestampMs }));
  }

  /** The connection behind `link` is gone: tear it down, report it, let the scheduler reconnect. */
  private lose(link: Link, why: string): void {
    if (this.link !== link) {
      link.lostWhy ??= why;
      link.firstValuesWaiter?.();
      return;
    }
    this.detach(link);
    this.errorCounts.comm++;
    this.lastError = `${this.who}: ${why}`;
    this.logger.warn({ endpoint: this.connection.endpointUrl }, why);
    this.track(this.dispose(link, false));
    this.notify();
  }

  private detach(link: Link): void {
    if (this.link === link) this.link = null;
    this.isConnected = false;
  }

  private track(disposal: Promise<void>): void {
    this.disposing.add(disposal);
    void disposal.finally(() => this.disposing.delete(disposal));
  }

  /** Releases subscription, session, channel and PKI store; each network step bounded by the timeout. */
  private async dispose(link: Link, graceful: boolean): Promise<void> {
    link.disposed = true;
    const subscription = link.subscription;
    link.subscription = null;
    if (graceful && subscription) {
      await withTimeout(subscription.terminate(), this.device.timeoutMs, this.clock, 'DeleteSubscriptions').catch((err) =>
        this.logger.debug({ err: oneLineMessage(err) }, 'terminating the subscription failed'),
      );
    }
    await link.connection.close({ graceful });
  }

  private notify(): void {
    if (!this.listener || this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      try {
        this.listener?.();
      } catch (err) {
        this.logger.error({ err }, 'onData listener failed');
      }
    });
  }

  async close(): Promise<void> {
    this.generation++;
    const opening = this.opening;
    if (opening) await opening.catch(() => {});
    const link = this.link;
    const wasConnected = this.isConnected;
    if (link) {
      this.detach(link);
      this.track(this.dispose(link, true));
    }
    this.isConnected = false;
    await Promise.all(this.disposing);
    if (wasConnected) this.logger.info({ endpoint: this.connection.endpointUrl }, 'closed');
  }

  stats(): OpcUaDriverStats {
    return {
      connected: this.isConnected,
      requests: this.requestTotal,
      errors: { ...this.errorCounts },
      lastLatencyMs: this.lastLatencyMs,
      lastError: this.lastError,
      publishResponses: this.publishResponses,
      dataChanges: this.dataChanges,
      monitoredItems: this.link?.monitoredItems ?? 0,
    };
  }
}
