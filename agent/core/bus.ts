/** Errors seen on a shared serial line, by kind. */
export interface BusErrorCounts {
  /** No reply within the timeout. */
  timeout: number;
  /** A reply whose CRC did not match. */
  crc: number;
  /** A reply that stopped before its end (the timeout came first). */
  shortFrame: number;
  /** A complete reply from a unit we did not ask. */
  wrongUnit: number;
  /** A reply from our unit for another function. */
  wrongFunction: number;
  /** A reply whose byte count does not fit the request. */
  byteCount: number;
  /** A reply that came after its request had timed out (dropped, never taken for the next answer). */
  lateReply: number;
  /** Modbus exception replies (the device answered, but refused). */
  exception: number;
  /** The line itself failed: the port vanished, the converter closed the connection. */
  comm: number;
}

/** How a shared RTU line is doing (a serial port or an RTU-over-TCP converter), for the status page and metrics. */
export interface BusHealth {
  id: string;
  /** "/dev/ttyUSB0 9600 8E1" or "rtu over tcp 10.0.0.9:4001". */
  description: string;
  transport: 'serial' | 'tcp';
  open: boolean;
  /** Device ids polled over this line. */
  devices: string[];
  /** Transactions started. */
  requests: number;
  /** Transactions that got an answer (data or exception). */
  answered: number;
  errors: BusErrorCounts;
  lastLatencyMs: number | null;
  /** Exponentially weighted mean latency of answered transactions. */
  meanLatencyMs: number | null;
  /** Share of wall time the line spent in transactions since it opened (0–1). */
  utilization: number;
  /** Opening the line failed this many times in a row; 0 when open. */
  openFailures: number;
  /** Current wait before the next open attempt; 0 when open. */
  backoffMs: number;
  lastError: string | null;
}
