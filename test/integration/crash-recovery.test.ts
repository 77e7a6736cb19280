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

async function statusOf(cli: Cli): Promise<{ buffer: { records: number; readings: number } | null; broker: { state: string } | null }> {
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
    let buffered = 0;
    await waitFor(
      'readings to pile up in the outbox',
      () => {
        void statusOf(first).then((s) => (buffered = s.buffer?.records ?? 0), () => {});
        return buffered >= 40;
      },
      20000,
    );
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
});
