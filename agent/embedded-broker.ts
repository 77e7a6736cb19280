import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

/** An in-process MQTT 3.1.1 broker (aedes) for the demo: no installation needed. */
export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`embedded MQTT broker: cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    host,
    port: bound,
    url: `mqtt://${host}:${bound}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
