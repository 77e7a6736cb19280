/**
 * The OPC UA load process (forked by bench/opcua-bench.ts): the plant simulator with its OPC UA
 * server and N extra Double variables (Objects/Plant/Bench) that all change at every plant step
 * (once a second). Security None, anonymous: the bench measures the data path, not the crypto.
 * Argument: JSON `{ variables: number, pkiDir: string }`. Reports `{ type: 'ready', endpointUrl, nodeIds }`.
 */
import { startOpcUaSimulator, startPlantSimulator } from '../simulators/index.js';

async function main(): Promise<void> {
  const { variables, pkiDir } = JSON.parse(process.argv[2]) as { variables: number; pkiDir: string };
  const plant = await startPlantSimulator({ host: '127.0.0.1', ports: { chiller: 0, 'cooling-tower': 0, transformer: 0, ups: 0 }, tickMs: 1000 });
  const server = await startOpcUaSimulator({ plant, port: 0, pkiDir, extraVariables: variables, devices: [], securityModes: ['None'], securityPolicies: ['None'] });
  process.send!({ type: 'ready', endpointUrl: server.endpointUrl, nodeIds: server.benchNodeIds });
  const stop = async (): Promise<void> => {
    await server.close();
    await plant.close();
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`opcua-sim-process: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
