/**
 * One simulated device as a Modbus TCP server (modbus-serial ServerTCP) answering from a
 * RegisterImage. The server can be stopped and started again on the same port, which is how
 * tests take a device "offline". Writes are refused: mapped addresses answer exception 1
 * (illegal function, the map is read-only), unmapped ones exception 2.
 */
import type { AddressInfo, Server } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import { IllegalAddressError, type RegisterImage } from './register-image.js';

export interface DeviceServerOptions {
  id: string;
  host: string;
  /** 0 = an ephemeral port, chosen on the first start and kept for restarts. */
  port: number;
  unitId: number;
  image: RegisterImage;
}

const modbusError = (code: number, msg: string) => ({ modbusErrorCode: code, msg });

export class DeviceServer {
  private server: ServerTCP | undefined;
  private boundPort: number;

  constructor(private readonly opts: DeviceServerOptions) {
    this.boundPort = opts.port;
  }

  /** The port the device listens on (the bound one once started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const image = this.opts.image;
    const read = (area: 'holding' | 'input', addr: number, length: number): number[] => {
      try {
        return image.readRegisters(area, addr, length);
      } catch (err) {
        if (err instanceof IllegalAddressError) throw modbusError(2, err.msg);
        throw err;
      }
    };
    const readBit = (area: 'coil' | 'discrete', addr: number): boolean => {
      try {
        return image.readBit(area, addr);
      } catch (err) {
        if (err instanceof IllegalAddressError) throw modbusError(2, err.msg);
        throw err;
      }
    };
    const refuseWrite = (area: 'holding' | 'coil', addr: number): never => {
      if (!image.isMapped(area, addr)) throw modbusError(2, `${area} ${addr} is not mapped`);
      throw modbusError(1, `${area} ${addr} is read-only`);
    };
    const vector: IServiceVector = {
      getHoldingRegister: (addr: number) => read('holding', addr, 1)[0],
      getInputRegister: (addr: number) => read('input', addr, 1)[0],
      getMultipleHoldingRegisters: (addr: number, length: number) => read('holding', addr, length),
      getMultipleInputRegisters: (addr: number, length: number) => read('input', addr, length),
      getCoil: (addr: number) => readBit('coil', addr),
      getDiscreteInput: (addr: number) => readBit('discrete', addr),
      setRegister: (addr: number) => refuseWrite('holding', addr),
      setCoil: (addr: number) => refuseWrite('coil', addr),
    };
    // ServerTCP treats port 0 as "use 502" (`options.port || 502`); the string "0" is truthy and
    // node's net accepts it as "any free port".
    const port = this.boundPort === 0 ? ('0' as unknown as number) : this.boundPort;
    const server = new ServerTCP(vector, { host: this.opts.host, port, unitID: this.opts.unitId });
    // a client dropping its connection must not take the simulator down
    server.on('socketError', () => {});
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (err: Error) =>
        reject(new Error(`simulator ${this.opts.id}: cannot listen on ${this.opts.host}:${this.boundPort}`, { cause: err })),
      );
    });
    const net = (server as unknown as { _server: Server })._server;
    this.boundPort = (net.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
