import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteOutbox, type SqliteOutbox } from '../../agent/buffer/sqlite-outbox.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { StoredRecord } from '../../agent/core/outbox.js';
import { Forwarder } from '../../agent/mqtt/forwarder.js';
import { dataRecord, type DataPayload } from '../../agent/mqtt/json-encoder.js';
import { MqttPublisher } from '../../agent/mqtt/mqtt-publisher.js';
import { createTopics } from '../../agent/mqtt/topics.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { waitFor } from '../helpers/brokers.js';

const topics = createTopics('gw1', 'allbit');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface RawConnection {
  socket: net.Socket;
  /** Every PUBLISH packet received on this connection, in order. */
  publishes: IPublishPacket[];
}

/**
 * A raw MQTT 3.1.1 endpoint: answers CONNECT with CONNACK and PINGREQ with PINGRESP, records
 * every PUBLISH, and sends PUBACK only on connections numbered `ackFromConnection` or later — a
 * broker that swallows acknowledgements (overloaded, or a bridge that lost its upstream) until
 * the link is re-established. aedes cannot be made to behave like this per connection.
 */
async function startSilentBroker(): Promise<{ url: string; connections: RawConnection[]; ackFromConnection: number; dropConnections(): void; close(): Promise<void> }> {
  const connections: RawConnection[] = [];
  const state = {
    url: '',
    connections,
    ackFromConnection: Number.POSITIVE_INFINITY,
    dropConnections() {
      for (const c of connections) c.socket.destroy();
    },
    close: async () => {
      state.dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((socket) => {
    const connection: RawConnection = { socket, publishes: [] };
    const index = connections.push(connection) - 1;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connect') socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      else if (packet.cmd === 'pingreq') socket.write(Buffer.from([0xd0, 0x00]));
      else if (packet.cmd === 'disconnect') socket.end();
      else if (packet.cmd === 'publish') {
        connection.publishes.push(packet);
        if (packet.qos === 1 && index >= state.ackFromConnection) {
          const id = packet.messageId ?? 0;
          socket.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
        }
      }
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return state;
}

function dataOf(publishes: IPublishPacket[]): (DataPayload & { dup: boolean })[] {
  return publishes.filter((p) => p.topic.endsWith('/data')).map((p) => ({ ...(JSON.parse(p.payload.toString()) as DataPayload), dup: p.dup }));
}

function statusOf(publishes: IPublishPacket[]): IPublishPacket[] {
  return publishes.filter((p) => p.topic === topics.gatewayStatus);
}

function tempOutbox(): SqliteOutbox {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-replay-'));
  const outbox = openSqliteOutbox({ path: join(dir, 'outbox.db'), maxBytes: 64 << 20, logger: silentLogger });
  cleanups.push(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return outbox;
}

describe('MqttPublisher gives up on messages in MQTT.js too', () => {
  it('timed-out messages do not pile up in client.outgoing and are not replayed after a reconnect: only the forwarder resends', async () => {
    const broker = await startSilentBroker();
    cleanups.push(() => broker.close());
    const clock = new FakeClock();
    const inflight = 4;
    const publishTimeoutMs = 1_000;
    const retryDelayMs = 500;
    const outbox = tempOutbox();
    const publisher = new MqttPublisher({
      url: broker.url,
      clientId: 'allbit-replay-test',
      topics,
      version: '0.1.0-test',
      outboxId: outbox.outboxId,
      clock,
      logger: silentLogger,
      reconnectPeriodMs: 50,
      publishTimeoutMs,
      inflight,
    });
    cleanups.push(() => publisher.stop());
    // One inflight slot goes to the online status, which this broker does not acknowledge either.
    const batchSize = inflight - 1;
    const forwarder = new Forwarder({ outbox, publisher, topics, clock, logger: silentLogger, batchSize, drainRatePerSec: 1000, retryDelayMs });
    cleanups.push(() => forwarder.stop());
    // Let the publisher's stop (bounded on the fake clock) finish: from now on the broker acknowledges.
    cleanups.push(() => void (broker.ackFromConnection = 0));
    const outgoing = () => Object.keys((publisher as unknown as { client: MqttClient }).client.outgoing).length;

    publisher.start();
    forwarder.start();
    await waitFor('publisher connected', () => publisher.state().state === 'connected');
    const first = broker.connections[0];
    await waitFor('online status', () => statusOf(first.publishes).length === 1);
    expect(JSON.parse(statusOf(first.publishes)[0].payload.toString())).toMatchObject({ state: 'online', outbox: outbox.outboxId });

    const records: StoredRecord[] = [];
    for (let i = 0; i < batchSize; i++) {
      const stored = outbox.append([
        dataRecord({ device: `dev${i % 2}`, cycleMs: clock.now(), readings: [{ tag: 't', value: i, unit: '', quality: 'good', timestampMs: clock.now() }] }, clock.now()),
      ]);
      records.push(...stored);
      forwarder.wake(stored);
    }

    // Three rounds of: the batch goes out, no PUBACK comes, publish times out, the forwarder pauses and resends.
    const rounds = 3;
    for (let round = 1; round <= rounds; round++) {
      await waitFor(`round ${round} on the wire`, () => dataOf(first.publishes).length === round * batchSize);
      expect(outgoing()).toBeLessThanOrEqual(inflight);
      await clock.advance(publishTimeoutMs);
      expect(forwarder.stats().failures).toBe(round);
      // Given up by the publisher, so given up in MQTT.js as well (the unacknowledged online status too).
      expect(outgoing()).toBe(0);
      await clock.advance(retryDelayMs);
    }
    await waitFor('the resend after the last timeout', () => dataOf(first.publishes).length === (rounds + 1) * batchSize);
    expect(outgoing()).toBeLessThanOrEqual(inflight);
    // On the first link every data message went out once per forwarder attempt, never as an MQTT.js duplicate.
    expect(dataOf(first.publishes).map((p) => [p.firstSeq, p.dup])).toEqual(
      Array.from({ length: rounds + 1 }, () => records.map((r) => [r.firstSeq, false])).flat(),
    );

    // The link drops with a batch in flight; the broker acknowledges on the next connection.
    broker.ackFromConnection = 1;
    broker.dropConnections();
    await waitFor('publisher reconnected', () => broker.connections.length === 2 && publisher.state().state === 'connected');
    await waitFor('outbox drained', () => outbox.stats().records === 0);
    const second = broker.connections[1];
    await waitFor('online status on the new link', () => statusOf(second.publishes).length >= 1);

    // On the new link: the new online status and the forwarder's one resend of the backlog, historical — nothing replayed by MQTT.js.
    expect(statusOf(second.publishes).map((p) => [JSON.parse(p.payload.toString()).state, p.dup])).toEqual([['online', false]]);
    expect(dataOf(second.publishes).map((p) => [p.firstSeq, p.historical, p.dup, p.outbox])).toEqual(
      records.map((r) => [r.firstSeq, true, false, outbox.outboxId]),
    );
    expect(second.publishes).toHaveLength(1 + batchSize);
    expect(outgoing()).toBe(0);
    expect(forwarder.stats()).toMatchObject({ acked: batchSize, lastError: null });
  });
});
