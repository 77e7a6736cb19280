/**
 * The load process (forked by bench/run.ts): the Modbus TCP devices the agent polls.
 *  - bulk devices (bench/bulk-device.ts), one TCP server each on an ephemeral port — the bench's
 *    minimal server (bench/fast-modbus-server.ts, why: see there) or, with bulkServer
 *    'modbus-serial', modbus-serial's ServerTCP — every value rewritten once a second;
 *  - optionally the plant simulator's four devices (real vendor register maps, physics-driven).
 * Argument: JSON `{ bulk: number[] (tags per device), plant: boolean, seed?: number }`.
 * Reports `{ type: 'ready', devices: SimDevice[] }` over IPC; `{ type: 'window', on }` starts and
 * ends a window of its own event-loop delay (answered with `{ type: 'window', eventLoopDelayMs }`);
 * exits on 'stop' or when the parent goes.
 */
import type { AddressInfo, Server } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import { startPlantSimulator, type PlantSimulator } from '../simulators/index.js';
import { chillerMap } from '../simulators/modbus/maps/chiller.js';
import { coolingTowerMap } from '../simulators/modbus/maps/cooling-tower.js';
import { transformerMap } from '../simulators/modbus/maps/transformer.js';
import { upsMap } from '../simulators/modbus/maps/ups.js';
import type { AddressBlock, DeviceMap } from '../simulators/modbus/points.js';
import { BulkImage, bulkBlocks, bulkTags, type RegisterArea } from './bulk-device.js';
import { startFastModbusServer } from './fast-modbus-server.js';

export interface SimDevice {
  id: string;
  /** 'bulk' or the plant profile name (chiller, cooling-tower, transformer, ups). */
  profile: string;
  tags: number | null;
  host: string;
  port: number;
  unitId: number;
  /** What the device answers, for the raw baseline (bits for coil/discrete). */
  blocks: AddressBlock[];
}

export interface SimArgs {
  bulk: number[];
  plant: boolean;
  /** How bulk devices are served: the bench's minimal server (default) or modbus-serial's ServerTCP. */
  bulkServer?: 'fast' | 'modbus-serial';
  seed?: number;
}

const HOST = '127.0.0.1';
const PLANT_MAPS: Record<string, DeviceMap> = { chiller: chillerMap, 'cooling-tower': coolingTowerMap, transformer: transformerMap, ups: upsMap };

const exception2 = (msg: string) => ({ modbusErrorCode: 2, msg });

async function startBulkServer(image: BulkImage): Promise<{ server: ServerTCP; port: number }> {
  const read = (area: RegisterArea, addr: number, length: number): number[] => {
    const mapped = image.mapped[area];
    for (let a = addr; a < addr + length; a++) if (mapped[a] !== 1) throw exception2(`${area} register ${a} is not mapped`);
    return Array.from(image.words[area].subarray(addr, addr + length));
  };
  const vector: IServiceVector = {
    getHoldingRegister: (addr: number) => read('holding', addr, 1)[0],
    getInputRegister: (addr: number) => read('input', addr, 1)[0],
    getMultipleHoldingRegisters: (addr: number, length: number) => read('holding', addr, length),
    getMultipleInputRegisters: (addr: number, length: number) => read('input', addr, length),
    getCoil: () => {
      throw exception2('no coils');
    },
    getDiscreteInput: () => {
      throw exception2('no discrete inputs');
    },
    setRegister: () => {
      throw { modbusErrorCode: 1, msg: 'read-only' };
    },
    setCoil: () => {
      throw { modbusErrorCode: 1, msg: 'read-only' };
    },
  };
  // ServerTCP turns port 0 into 502; the string "0" means "any free port" to node's net.
  const server = new ServerTCP(vector, { host: HOST, port: '0' as unknown as number, unitID: 1 });
  server.on('socketError', () => {});
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err: Error) => reject(err));
  });
  const port = ((server as unknown as { _server: Server })._server.address() as AddressInfo).port;
  return { server, port };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as SimArgs;
  const devices: SimDevice[] = [];
  const images: BulkImage[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (let i = 0; i < args.bulk.length; i++) {
    const tags = bulkTags(args.bulk[i]);
    const image = new BulkImage(tags, i + (args.seed ?? 0));
    let port: number;
    if (args.bulkServer === 'modbus-serial') {
      const started = await startBulkServer(image);
      port = started.port;
      closers.push(() => new Promise<void>((resolve) => started.server.close(() => resolve())));
    } else {
      const started = await startFastModbusServer(image, { host: HOST, unitId: 1 });
      port = started.port;
      closers.push(() => started.close());
    }
    images.push(image);
    devices.push({ id: `bulk-${String(i + 1).padStart(2, '0')}`, profile: 'bulk', tags: tags.length, host: HOST, port, unitId: 1, blocks: bulkBlocks(tags) });
  }
  let plant: PlantSimulator | null = null;
  if (args.plant) {
    plant = await startPlantSimulator({ host: HOST, tickMs: 250 });
    for (const d of plant.devices) devices.push({ id: d.id, profile: d.kind, tags: null, host: d.host, port: d.port, unitId: d.unitId, blocks: PLANT_MAPS[d.kind].blocks });
  }

  // Rewrite every bulk value once a second, on the wall-clock second.
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    const second = Math.floor(Date.now() / 1000);
    for (const image of images) image.update(second);
    timer = setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();

  const stop = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    await plant?.close();
    await Promise.all(closers.map((close) => close()));
    process.exit(0);
  };
  // Event-loop delay of the simulator itself, so a slow Modbus read can be told apart from a slow rig.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('message', (m: { type?: string; on?: boolean }) => {
    if (m?.type === 'stop') void stop();
    if (m?.type === 'window') {
      if (m.on) delay.reset();
      else {
        const ms = (ns: number) => Math.max(0, ns / 1e6 - 10);
        process.send!({ type: 'window', eventLoopDelayMs: { p99: ms(delay.percentile(99)), max: ms(delay.max) } });
      }
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', devices });
}

main().catch((err: unknown) => {
  console.error(`bench sim: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
