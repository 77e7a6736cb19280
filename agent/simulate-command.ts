import { startPlantSimulator } from '../simulators/index.js';
import { waitForSignal } from './run-command.js';

export interface SimulateOptions {
  host: string;
  basePort: number;
  timeSpeed: number;
  /** DEVICE:FAULT[:SEVERITY] */
  faults: string[];
}

/** `allbit simulate`: the plant alone, for any Modbus client to point at. */
export async function simulateCommand(options: SimulateOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const kinds = ['chiller', 'cooling-tower', 'transformer', 'ups'] as const;
  const ports = Object.fromEntries(kinds.map((k, i) => [k, options.basePort === 0 ? 0 : options.basePort + i]));
  const simulator = await startPlantSimulator({ host: options.host, ports, timeSpeed: options.timeSpeed });
  for (const spec of options.faults) {
    const [device, fault, severity] = spec.split(':');
    try {
      simulator.injectFault(device, fault, severity === undefined ? 1 : Number(severity));
    } catch (e) {
      err.write(`allbit simulate: --fault ${spec}: ${(e as Error).message}\n`);
      await simulator.close();
      return 1;
    }
  }
  out.write(`allbit plant simulator (time speed ×${options.timeSpeed})\n`);
  for (const d of simulator.devices) out.write(`  ${d.id.padEnd(16)} Modbus TCP ${d.host}:${d.port} unit ${d.unitId}\n`);
  if (options.faults.length > 0) out.write(`  faults: ${options.faults.join(', ')}\n`);
  out.write('Press Ctrl-C to stop.\n');
  await waitForSignal(() => err.write('allbit simulate: stopping…\n'));
  await simulator.close();
  return 0;
}
