/**
 * How long an RTU transaction takes on a real serial line, so a simulated bus reached over a pty
 * or TCP (where bytes arrive at once) allows no more throughput than the wire it stands for.
 *
 * A character is `bitsPerChar` bits on the wire: start + 8 data + parity (or a 2nd stop bit) +
 * stop = 11, the only frames Modbus RTU allows (Modbus over serial line, 2.5.1). The line must stay
 * silent 3.5 characters between frames.
 */

/** Bits per character on a Modbus RTU line: start, 8 data, parity or 2nd stop, stop. */
export const RTU_BITS_PER_CHAR = 11;

/** The inter-frame silence the responder keeps before it answers, in characters. */
export const RTU_TURNAROUND_CHARS = 3.5;

export interface LineTiming {
  baudRate: number;
  /** Default 11. */
  bitsPerChar?: number;
}

/** Milliseconds `chars` characters occupy the line. */
export function charTimeMs(chars: number, line: LineTiming): number {
  return (chars * (line.bitsPerChar ?? RTU_BITS_PER_CHAR) * 1000) / line.baudRate;
}

/**
 * Milliseconds from a request's arrival until the reply may be written:
 * (requestBytes + replyBytes + 3.5) × bitsPerChar / baudRate — the request on the wire, the
 * turnaround silence, and the reply on the wire (it is written whole, at the moment its last byte
 * would have arrived).
 */
export function transactionTimeMs(requestBytes: number, replyBytes: number, line: LineTiming): number {
  return charTimeMs(requestBytes + replyBytes + RTU_TURNAROUND_CHARS, line);
}

/** Throws a RangeError naming `where` unless the line settings are usable. */
export function checkLineTiming(line: LineTiming, where: string): void {
  if (!(line.baudRate > 0) || !Number.isFinite(line.baudRate)) throw new RangeError(`${where}: baudRate must be a positive number, got ${line.baudRate}`);
  const bits = line.bitsPerChar ?? RTU_BITS_PER_CHAR;
  if (!Number.isInteger(bits) || bits < 7 || bits > 12) throw new RangeError(`${where}: bitsPerChar must be an integer 7..12, got ${bits}`);
}
