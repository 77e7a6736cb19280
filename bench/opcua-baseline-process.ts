/**
 * The raw baseline for the OPC UA figures: node-opcua-client alone, one session, one subscription
 * with the same monitored items and publishing interval as the agent's, counting data changes —
 * no allbit code. Argument: the path of a JSON file `{ endpointUrl, nodeIds, publishingIntervalMs,
 * samplingIntervalMs, pkiDir }` (10k node ids do not fit in argv). Reports `{ type: 'ready' }` once
 * every item delivered a first value; `{ type: 'count' }` → `{ type: 'count', changes, latenciesMs }`
 * (value change on the server, by its server timestamp, to receipt here, since the last count).
 */
import { readFileSync } from 'node:fs';
import { AttributeIds, ClientMonitoredItemGroup, ClientSubscription, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn } from 'node-opcua-client';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';

async function main(): Promise<void> {
  const args = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { endpointUrl: string; nodeIds: string[]; publishingIntervalMs: number; samplingIntervalMs: number; pkiDir: string };
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: args.pkiDir, automaticallyAcceptUnknownCertificate: true });
  const client = OPCUAClient.create({
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    clientCertificateManager,
    connectionStrategy: { maxRetry: 0 },
  });
  await client.connect(args.endpointUrl);
  const session = await client.createSession();
  const subscription = ClientSubscription.create(session, {
    requestedPublishingInterval: args.publishingIntervalMs,
    requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 20,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 1,
  });
  let changes = 0;
  const seen = new Set<number>();
  const group = ClientMonitoredItemGroup.create(
    subscription,
    args.nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: args.samplingIntervalMs, queueSize: 10, discardOldest: true },
    TimestampsToReturn.Both,
  );
  let ready = false;
  let latenciesMs: number[] = [];
  group.on('changed', (item, dataValue) => {
    changes++;
    const serverMs = dataValue.serverTimestamp?.getTime();
    if (serverMs !== undefined && latenciesMs.length < 200_000) latenciesMs.push(Date.now() - serverMs);
    if (!ready) {
      seen.add(group.monitoredItems.indexOf(item));
      if (seen.size === args.nodeIds.length) {
        ready = true;
        process.send!({ type: 'ready' });
      }
    }
  });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'count') {
      process.send!({ type: 'count', changes, latenciesMs });
      latenciesMs = [];
    }
    if (m?.type === 'stop') {
      void (async () => {
        await subscription.terminate().catch(() => {});
        await session.close().catch(() => {});
        await client.disconnect().catch(() => {});
        process.exit(0);
      })();
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(`opcua-baseline-process: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
