/**
 * The broker process (forked by bench/run.ts): aedes, in-memory persistence, on an ephemeral port
 * of 127.0.0.1 — a process of its own so its CPU is not charged to the agent or the subscriber.
 *
 * It also timestamps arrivals, for "poll → broker" measured literally: when a PUBLISH on a data
 * topic (or the MQTT baseline's topic) arrives — aedes' `authorizePublish` hook, before routing
 * and before the PUBACK — it notes the time with the payload's top-level `ts` and `firstSeq`
 * (found in the payload head by string search, no full parse), while a window is open.
 *
 * IPC: → { type: 'ready', port }; ← { type: 'window', on: true } / { type: 'window', on: false }
 * → { type: 'window', arrivals: { data: Arrival[], baseline: Arrival[] } }; ← { type: 'stop' }.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

const TS_KEY = Buffer.from('"ts":"');
const FIRST_SEQ = /"firstSeq":(\d+)/;

/** The payload's top-level `ts` and `firstSeq` (both precede `readings`), read from its head only. */
function payloadHead(payload: Buffer | string): { tsMs: number; firstSeq: number } {
  const head = typeof payload === 'string' ? Buffer.from(payload.slice(0, 512)) : payload.subarray(0, 512);
  const at = head.indexOf(TS_KEY);
  if (at < 0) return { tsMs: NaN, firstSeq: NaN };
  const start = at + TS_KEY.length;
  const seq = FIRST_SEQ.exec(head.subarray(0, at).toString('latin1'));
  return { tsMs: Date.parse(head.subarray(start, start + 24).toString('latin1')), firstSeq: seq ? Number(seq[1]) : NaN };
}

/** One PUBLISH as it arrived: when, and the payload's cycle time and first sequence number. */
export interface Arrival {
  arrivalMs: number;
  tsMs: number;
  firstSeq: number;
}

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  let window: { data: Arrival[]; baseline: Arrival[] } | null = null;
  broker.authorizePublish = (_client, packet, callback) => {
    if (window) {
      const arrivalMs = Date.now();
      const list = packet.topic.endsWith('/data') ? window.data : packet.topic.startsWith('bench-baseline/') ? window.baseline : null;
      if (list) list.push({ arrivalMs, ...payloadHead(packet.payload as Buffer) });
    }
    callback(null);
  };
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const stop = (): void => {
    server.close();
    broker.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('message', (m: { type?: string; on?: boolean }) => {
    if (m?.type === 'stop') stop();
    if (m?.type === 'window') {
      if (m.on) window = { data: [], baseline: [] };
      else {
        process.send!({ type: 'window', arrivals: window ?? { data: [], baseline: [] } });
        window = null;
      }
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port });
}

main().catch((err: unknown) => {
  console.error(`bench broker: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
