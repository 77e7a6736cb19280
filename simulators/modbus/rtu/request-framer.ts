/**
 * Cuts a byte stream into RTU request frames. A stream (TCP through a serial converter, a pty)
 * may deliver a frame in pieces or several frames in one chunk, so a frame ends where its function
 * code says it does, not where a chunk ends.
 *
 * Frames with a bad CRC are dropped with everything buffered after them: a real responder cannot
 * tell where the next frame starts either and waits for the next silent interval. `reset()` is that
 * interval (the link calls it when the line has been idle). Function codes whose length is not
 * fixed by the protocol are delimited by the first prefix that carries a valid CRC.
 */
import { hasValidCrc } from './crc16.js';

/** The longest RTU frame (Modbus over serial line, 2.5.1.1). */
export const MAX_RTU_FRAME_BYTES = 256;

export interface FramerStats {
  frames: number;
  crcErrors: number;
  /** Bytes thrown away: bad frames, overlong garbage, stale partial frames on reset(). */
  discardedBytes: number;
}

/**
 * Length of the request frame starting at buf[0] (CRC included), or undefined while the buffer
 * is too short to tell, or 'scan' when the function code gives no length.
 */
export function requestFrameLength(buf: Uint8Array): number | 'scan' | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1];
  switch (fc) {
    case 1: // read coils
    case 2: // read discrete inputs
    case 3: // read holding registers
    case 4: // read input registers
    case 5: // write single coil
    case 6: // write single register
    case 8: // diagnostics (sub-function + one data word)
      return 8;
    case 7: // read exception status
    case 11: // comm event counter
    case 12: // comm event log
    case 17: // report server id
      return 4;
    case 15: // write multiple coils
    case 16: // write multiple registers
      return buf.length < 7 ? undefined : 9 + buf[6];
    case 22: // mask write register
      return 10;
    case 23: // read/write multiple registers
      return buf.length < 11 ? undefined : 13 + buf[10];
    default:
      return 'scan';
  }
}

export class RtuRequestFramer {
  private buf: Buffer = Buffer.alloc(0);
  readonly stats: FramerStats = { frames: 0, crcErrors: 0, discardedBytes: 0 };

  /** Bytes of an incomplete frame waiting for the rest. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** Appends a chunk and returns every complete frame with a valid CRC, in order. */
  push(chunk: Uint8Array): Buffer[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const length = requestFrameLength(this.buf);
      if (length === undefined) break;
      if (length === 'scan') {
        const end = this.scanForCrc();
        if (end === undefined) {
          if (this.buf.length >= MAX_RTU_FRAME_BYTES) this.discard(this.buf.length, true);
          break;
        }
        frames.push(this.take(end));
        continue;
      }
      if (this.buf.length < length) break;
      const frame = this.buf.subarray(0, length);
      if (!hasValidCrc(frame)) {
        // no way to resynchronise inside the stream: drop it all, as a responder waits for silence
        this.discard(this.buf.length, true);
        break;
      }
      frames.push(this.take(length));
    }
    return frames;
  }

  /** The line went silent: a partial frame will never be completed. */
  reset(): void {
    if (this.buf.length > 0) this.discard(this.buf.length, false);
  }

  private scanForCrc(): number | undefined {
    const limit = Math.min(this.buf.length, MAX_RTU_FRAME_BYTES);
    for (let end = 4; end <= limit; end++) if (hasValidCrc(this.buf.subarray(0, end))) return end;
    return undefined;
  }

  private take(length: number): Buffer {
    const frame = Buffer.from(this.buf.subarray(0, length));
    this.buf = this.buf.subarray(length);
    this.stats.frames++;
    return frame;
  }

  private discard(length: number, crcError: boolean): void {
    if (crcError) this.stats.crcErrors++;
    this.stats.discardedBytes += length;
    this.buf = this.buf.subarray(length);
  }
}
