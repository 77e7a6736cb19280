import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteOutbox } from '../../agent/buffer/sqlite-outbox.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { DataPayload } from '../../agent/mqtt/json-encoder.js';
import { startPlantSimulator, type PlantSimulator } from '../../simulators/index.js';
import { startEmbeddedBroker } from '../../agent/embedded-broker.js';
import { collect, freePort, waitFor, type Collector } from '../helpers/brokers.js';
import { startCli } from '../helpers/cli.js';
import { plantConfig } from '../helpers/plant-config.js';

type Cli = ReturnType<typeof startCli>;

interface StatusView {
  buffer: { records: number; readings: number; nextSeq: number; droppedRecords: number } | null;
  broker: { state: string } | null;
}

/** Polls the agent's status API, one request at a time, until `predicate` holds. */
async function waitForStatus(cli: Cli, what: string, predicate: (s: StatusView) => boolean, timeoutMs = 20000): Promise<StatusView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await statusOf(cli).catch(() => null);
    if (status && predicate(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function statusOf(cli: Cli): Promise<StatusView> {
  const line = cli
    .output()
    .split('\n')
    .find((l) => l.includes('"agent started"'));
  if (!line) throw new Error(`agent did not start:\n${cli.output()}`);
  const { status } = JSON.parse(line) as { status: { host: string; port: number } };
  return (await fetch(`http://${status.host}:${status.port}/api/status`)).json() as never;
}

describe('crash recovery', () => {
  let sim: PlantSimulator | undefined;
  let sub: Collector | undefined;
  const children: Cli[] = [];

  afterEach(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await sub?.close();
    await sim?.close();
  });

  it('after kill -9, a restarted agent delivers every reading it had committed and never reuses a sequence number', async () => {
    sim = await startPlantSimulator({ timeSpeed: 60, seed: 11 });
    const brokerPort = await freePort(); // nothing listens yet: the first run buffers everything
    const { file, config } = plantConfig(sim, { brokerUrl: `mqtt://127.0.0.1:${brokerPort}`, pollIntervalMs: 100, maxSilenceMs: 0 });

    const first = startCli(['run', '--config', file, '--log-level', 'info']);
    children.push(first);
    await waitFor('the agent to start', () => first.output().includes('"agent started"'), 20000);
    await waitForStatus(first, 'readings to pile up in the outbox', (s) => (s.buffer?.records ?? 0) >= 40);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();

    const outbox = openSqliteOutbox({ path: config.buffer.path, maxBytes: config.buffer.maxBytes, logger: silentLogger });
    const committed = outbox.next(1e6).flatMap((r) => Array.from({ length: r.count }, (_, i) => r.firstSeq + i));
    const nextSeqAfterCrash = outbox.stats().nextSeq;
    outbox.close();
    expect(committed.length).toBeGreaterThanOrEqual(40);

    // Now bring a broker up on the port the config names.
    const embedded = await startEmbeddedBroker('127.0.0.1', brokerPort);
    try {
      sub = await collect(`mqtt://127.0.0.1:${brokerPort}`, 'allbit/#');
      const second = startCli(['run', '--config', file, '--log-level', 'info']);
      children.push(second);
      const data = () => sub!.messages.filter((m) => m.topic.endsWith('/data')).map((m) => JSON.parse(m.payload) as DataPayload);
      await sub.until('every committed reading', () => {
        const got = new Set(data().flatMap((p) => p.readings.map((r) => r.seq)));
        return committed.every((s) => got.has(s));
      }, 20000);
      await sub.until('new live readings', () => data().some((p) => !p.historical));
      const recovered = data().filter((p) => p.firstSeq < nextSeqAfterCrash);
      expect(recovered.every((p) => p.historical)).toBe(true);
      expect(data().filter((p) => !p.historical).every((p) => p.firstSeq >= nextSeqAfterCrash)).toBe(true);

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      await sub.until('retained offline status', (ms) => ms.some((m) => m.topic === 'allbit/test-edge/status' && JSON.parse(m.payload).state === 'offline'));
    } finally {
      await sub?.close();
      sub = undefined;
      await embedded.close();
    }
  });

  it('after kill -9 while forwarding live, every sequence number committed before the kill arrives across both runs', async () => {
    sim = await startPlantSimulator({ timeSpeed: 60, seed: 12 });
    const brokerPort = await freePort();
    const embedded = await startEmbeddedBroker('127.0.0.1', brokerPort);
    try {
      sub = await collect(`mqtt://127.0.0.1:${brokerPort}`, 'allbit/+/devices/+/data');
      const { file } = plantConfig(sim, { brokerUrl: `mqtt://127.0.0.1:${brokerPort}`, pollIntervalMs: 100, maxSilenceMs: 0 });
      const first = startCli(['run', '--config', file, '--log-level', 'info']);
      children.push(first);
      await waitFor('the agent to start', () => first.output().includes('"agent started"'), 20000);
      await sub.until('live data flowing', (ms) => ms.length >= 30, 20000);
      // Everything below nextSeq was committed (append returned) before the status was sampled (at most a second ago).
      const before = await waitForStatus(first, 'a status sample after some traffic', (s) => (s.buffer?.nextSeq ?? 0) > 30);
      first.child.kill('SIGKILL');
      await first.exited;
      const committedBelow = before.buffer!.nextSeq;
      expect(committedBelow).toBeGreaterThan(30);

      const second = startCli(['run', '--config', file, '--log-level', 'info']);
      children.push(second);
      const seqs = () => new Set(sub!.messages.flatMap((m) => (JSON.parse(m.payload) as DataPayload).readings.map((r) => r.seq)));
      await sub.until('every seq committed before the kill', () => {
        const got = seqs();
        for (let seq = 1; seq < committedBelow; seq++) if (!got.has(seq)) return false;
        return true;
      }, 20000);
      const after = await waitForStatus(second, 'the second run to forward', (s) => s.broker?.state === 'connected');
      expect(after.buffer!.droppedRecords).toBe(0);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await sub?.close();
      sub = undefined;
      await embedded.close();
    }
  });
});
