/**
 * A minimal Modbus TCP server for the bench's bulk devices: function codes 3 and 4 answered
 * straight from a register image, nothing else (exception 1). Why not modbus-serial's ServerTCP,
 * which the plant simulator uses: ServerTCP builds each answer through one callback per register,
 * about 0.1 ms of CPU per 125-register request. With 50 devices in one load process that is
 * ~100 ms of serialised work per second, all of it landing in the same burst when the agent polls
 * — the rig, not the agent, would then set the Modbus read time. Real devices answer in parallel.
 * (The modbus-serial *client* — what the agent uses — is measured as it is, in the raw baseline.)
 *
 * Protocol (Modbus Application Protocol v1.1b3 and Messaging on TCP/IP v1.0b):
 * MBAP = transaction id (2), protocol id 0 (2), length of unit id + PDU (2), unit id (1);
 * request PDU = function (1), start address (2), quantity 1–125 (2);
 * answer PDU = function, byte count, registers big-endian; exception = function | 0x80, code.
 * Exception 2 for any unmapped register in the range, 3 for a quantity outside 1–125.
 */
import net, { type AddressInfo } from 'node:net';
import type { RegisterArea } from './bulk-device.js';

export interface RegisterSource {
  words: Record<RegisterArea, Uint16Array>;
  mapped: Record<RegisterArea, Uint8Array>;
}

export interface FastModbusServer {
  port: number;
  close(): Promise<void>;
}

function answer(image: RegisterSource, unitId: number, frame: Buffer): Buffer {
  const tid = frame.readUInt16BE(0);
  const uid = frame.readUInt8(6);
  const fc = frame.readUInt8(7);
  const exception = (code: number): Buffer => {
    const out = Buffer.allocUnsafe(9);
    out.writeUInt16BE(tid, 0);
    out.writeUInt16BE(0, 2);
    out.writeUInt16BE(3, 4);
    out.writeUInt8(uid, 6);
    out.writeUInt8(fc | 0x80, 7);
    out.writeUInt8(code, 8);
    return out;
  };
  if (uid !== unitId && uid !== 0 && uid !== 255) return exception(11);
  if ((fc !== 3 && fc !== 4) || frame.length < 12) return exception(1);
  const address = frame.readUInt16BE(8);
  const quantity = frame.readUInt16BE(10);
  if (quantity < 1 || quantity > 125) return exception(3);
  const area: RegisterArea = fc === 3 ? 'holding' : 'input';
  if (address + quantity > 65536) return exception(2);
  const mapped = image.mapped[area];
  for (let a = address; a < address + quantity; a++) if (mapped[a] !== 1) return exception(2);
  const words = image.words[area];
  const out = Buffer.allocUnsafe(9 + quantity * 2);
  out.writeUInt16BE(tid, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(3 + quantity * 2, 4);
  out.writeUInt8(uid, 6);
  out.writeUInt8(fc, 7);
  out.writeUInt8(quantity * 2, 8);
  for (let i = 0; i < quantity; i++) out.writeUInt16BE(words[address + i], 9 + i * 2);
  return out;
}

export async function startFastModbusServer(image: RegisterSource, options: { host: string; unitId: number }): Promise<FastModbusServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 7) {
        const length = pending.readUInt16BE(4);
        const total = 6 + length;
        if (length < 2 || length > 254) {
          socket.destroy(); // not Modbus TCP
          return;
        }
        if (pending.length < total) break;
        const frame = pending.subarray(0, total);
        pending = pending.subarray(total);
        socket.write(answer(image, options.unitId, frame));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
