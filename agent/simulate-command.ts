import { resolve } from 'node:path';
import { startOpcUaSimulator, startPlantSimulator, type OpcUaSimulator } from '../simulators/index.js';
import { waitForSignal } from './run-command.js';

export interface SimulateOptions {
  host: string;
  basePort: number;
  timeSpeed: number;
  /** DEVICE:FAULT[:SEVERITY] */
  faults: string[];
  /** Also serve the RTU bus on this serial device (one end of a null-modem cable or a pty pair). */
  rtuSerial?: string;
  /** Pace the RTU bus like a line of this speed. */
  rtuBaud: number;
  /** Serve OPC UA too (default). */
  opcua: boolean;
  /** The OPC UA server's PKI folder. */
  opcuaPkiDir: string;
}

/**
 * `allbit simulate`: the plant alone, for any client to point at — every device as a Modbus TCP
 * server (PORT … PORT+3), all four as units 1–4 on one RTU bus (RTU over TCP on PORT+4, and on a
 * serial device if asked), and an OPC UA server (PORT+5).
 */
export async function simulateCommand(options: SimulateOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const kinds = ['chiller', 'cooling-tower', 'transformer', 'ups'] as const;
  const at = (offset: number): number => (options.basePort === 0 ? 0 : options.basePort + offset);
  const ports = Object.fromEntries(kinds.map((k, i) => [k, at(i)]));
  const simulator = await startPlantSimulator({
    host: options.host,
    ports,
    timeSpeed: options.timeSpeed,
    rtu: { tcpPort: at(4), baudRate: options.rtuBaud, ...(options.rtuSerial ? { serialPath: options.rtuSerial } : {}) },
  });
  let opcua: OpcUaSimulator | null = null;
  const close = async (): Promise<void> => {
    await opcua?.close();
    await simulator.close();
  };
  try {
    // node-opcua reads its log level once, when it loads: keep its start-up notice about RSA PKCS#1
    // v1.5 on Node 20 (no endpoint here uses it) off a newcomer's console; errors still show.
    process.env.NODEOPCUA_LOG_LEVEL ??= '3';
    if (options.opcua) opcua = await startOpcUaSimulator({ plant: simulator, host: options.host, port: at(5), pkiDir: resolve(options.opcuaPkiDir) });
  } catch (e) {
    err.write(`allbit simulate: cannot start the OPC UA server: ${(e as Error).message}\n`);
    await close();
    return 1;
  }
  for (const spec of options.faults) {
    const [device, fault, severity] = spec.split(':');
    try {
      simulator.injectFault(device, fault, severity === undefined ? 1 : Number(severity));
    } catch (e) {
      err.write(`allbit simulate: --fault ${spec}: ${(e as Error).message}\n`);
      await close();
      return 1;
    }
  }
  out.write(`allbit plant simulator (time speed ×${options.timeSpeed})\n`);
  for (const d of simulator.devices) out.write(`  ${d.id.padEnd(16)} Modbus TCP ${d.host}:${d.port} unit ${d.unitId}\n`);
  const rtu = simulator.rtu!;
  const units = Object.entries(rtu.units).map(([id, unit]) => `${id} unit ${unit}`).join(', ');
  out.write(`  RTU bus          ${units}, paced at ${options.rtuBaud} baud\n`);
  out.write(`                   RTU over TCP ${options.host}:${rtu.port}${rtu.serialPath ? `; serial ${rtu.serialPath}` : ''}\n`);
  if (opcua) out.write(`  OPC UA           ${opcua.endpointUrl} (namespace ${opcua.namespaceUri}; certificate SHA-1 ${opcua.certificateThumbprint})\n`);
  if (options.faults.length > 0) out.write(`  faults: ${options.faults.join(', ')}\n`);
  out.write('Press Ctrl-C to stop.\n');
  await waitForSignal(() => err.write('allbit simulate: stopping…\n'));
  await close();
  return 0;
}
