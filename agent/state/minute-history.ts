/**
 * The last hour of every numeric tag of one device, one point per minute (the mean of the good
 * and uncertain values received in that minute), kept in typed arrays: a ring of 60 minute slots
 * per tag (Float32, NaN for a minute without a value) plus the running sum and count of the minute
 * in progress. About 253 bytes per tag whatever the poll rate — 2.5 MB at 10k tags — and one add
 * per reading; a minute is closed once per device, not once per tag.
 *
 * Bad readings are not averaged in: a minute in which a tag had no usable value is a gap in the
 * trend, never a zero.
 */
export const HISTORY_MINUTES = 60;
export const HISTORY_STEP_MS = 60_000;

export interface HistorySeries {
  /** Start of each minute, ms since epoch, oldest first; the last is the minute in progress. */
  minutesMs: number[];
  /** Per numeric tag, one value per minute (null: no usable value in that minute). */
  values: Map<number, (number | null)[]>;
}

export class MinuteHistory {
  private readonly points: Float32Array;
  private readonly slotMinute = new Float64Array(HISTORY_MINUTES).fill(-1);
  private readonly sum: Float64Array;
  private readonly count: Uint32Array;
  private readonly numeric: Uint8Array;
  private currentMinute = -1;

  constructor(private readonly tagCount: number) {
    this.points = new Float32Array(tagCount * HISTORY_MINUTES).fill(Number.NaN);
    this.sum = new Float64Array(tagCount);
    this.count = new Uint32Array(tagCount);
    this.numeric = new Uint8Array(tagCount);
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    return this.points.byteLength + this.slotMinute.byteLength + this.sum.byteLength + this.count.byteLength + this.numeric.byteLength;
  }

  /** Moves to the minute of `nowMs`, closing the minute in progress (call before `add`). */
  advance(nowMs: number): void {
    const minute = Math.floor(nowMs / HISTORY_STEP_MS);
    if (minute === this.currentMinute) return;
    if (minute < this.currentMinute) return; // a clock step backwards: keep adding to the open minute
    if (this.currentMinute >= 0) {
      const slot = this.currentMinute % HISTORY_MINUTES;
      for (let i = 0; i < this.tagCount; i++) {
        const n = this.count[i];
        this.points[i * HISTORY_MINUTES + slot] = n > 0 ? this.sum[i] / n : Number.NaN;
      }
      this.slotMinute[slot] = this.currentMinute;
      this.sum.fill(0);
      this.count.fill(0);
    }
    this.currentMinute = minute;
  }

  add(tagIndex: number, value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum[tagIndex] += value;
    this.count[tagIndex]++;
    this.numeric[tagIndex] = 1;
  }

  isNumeric(tagIndex: number): boolean {
    return this.numeric[tagIndex] === 1;
  }

  /** The hour up to `nowMs`, for the tags given (default: every tag that has had a number). */
  series(nowMs: number, tagIndexes?: readonly number[]): HistorySeries {
    const last = Math.floor(nowMs / HISTORY_STEP_MS);
    const first = last - HISTORY_MINUTES + 1;
    const minutesMs: number[] = [];
    for (let m = first; m <= last; m++) minutesMs.push(m * HISTORY_STEP_MS);
    const values = new Map<number, (number | null)[]>();
    const wanted = tagIndexes ?? [...Array(this.tagCount).keys()];
    for (const i of wanted) {
      if (i < 0 || i >= this.tagCount || this.numeric[i] !== 1) continue;
      const row: (number | null)[] = [];
      for (let m = first; m <= last; m++) {
        if (m === this.currentMinute) {
          row.push(this.count[i] > 0 ? this.sum[i] / this.count[i] : null);
          continue;
        }
        const slot = ((m % HISTORY_MINUTES) + HISTORY_MINUTES) % HISTORY_MINUTES;
        const v = this.slotMinute[slot] === m ? this.points[i * HISTORY_MINUTES + slot] : Number.NaN;
        row.push(Number.isNaN(v) ? null : v);
      }
      values.set(i, row);
    }
    return { minutesMs, values };
  }
}
