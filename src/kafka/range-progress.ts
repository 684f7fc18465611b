// Pure bookkeeping for reading exact offset ranges: which fetched records a range still needs and
// how far each partition has been read. Kept apart from kafkajs so it can be tested alone.
import {KbkError} from '../errors.js'
import type {ReadRange, RecordCursor} from './port.js'

export interface PartitionState {
  readonly partition: number
  readonly from: number
  readonly to: number
  /** The next offset this partition still needs. */
  position: number
}

export class RangeProgress {
  readonly #parts = new Map<number, PartitionState>()

  constructor(ranges: ReadRange[]) {
    for (const r of ranges) {
      if (!Number.isSafeInteger(r.partition) || !Number.isSafeInteger(r.from) || !Number.isSafeInteger(r.to) || r.from < 0 || r.to < r.from) {
        throw new KbkError('KBK_INTERNAL', `Invalid read range for partition ${r.partition}: [${r.from}, ${r.to}).`, {kind: 'internal'})
      }
      if (this.#parts.has(r.partition)) {
        throw new KbkError('KBK_INTERNAL', `Partition ${r.partition} is listed twice in one read.`, {kind: 'internal'})
      }
      this.#parts.set(r.partition, {partition: r.partition, from: r.from, to: r.to, position: r.from})
    }
  }

  get partitions(): PartitionState[] {
    return [...this.#parts.values()]
  }

  get(partition: number): PartitionState | undefined {
    return this.#parts.get(partition)
  }

  isDone(partition: number): boolean {
    const p = this.#parts.get(partition)
    return p === undefined || p.position >= p.to
  }

  allDone(): boolean {
    return this.partitions.every((p) => p.position >= p.to)
  }

  /**
   * Takes one fetch's worth of a partition. `data` are the data records (control records and
   * aborted transactions already removed), in offset order; `seenUpTo` is the offset after
   * everything the fetch covered, data or not (the end of its last record batch). Returns the
   * records still needed, in [position, to), and the new position, or null when the fetch moves
   * nothing (a repeat, or a partition that is done or not ours).
   */
  take<T extends {offset: number}>(partition: number, data: readonly T[], seenUpTo: number): {records: T[]; nextOffset: number} | null {
    const p = this.#parts.get(partition)
    if (!p || p.position >= p.to) return null
    const records: T[] = []
    let end = seenUpTo
    for (const r of data) {
      if (r.offset < p.position) continue
      if (r.offset >= p.to) break
      records.push(r)
      if (r.offset + 1 > end) end = r.offset + 1
    }
    const nextOffset = Math.min(Math.max(end, p.position), p.to)
    if (records.length === 0 && nextOffset <= p.position) return null
    p.position = nextOffset
    return {records, nextOffset}
  }

  /**
   * take() for a cursor (which yields only records in [position, to) of the batches it covers, so
   * none lies at or past `seenUpTo`): moves the position to `seenUpTo` (at most `to`) and returns
   * the cursor, or null when the fetch moves nothing.
   */
  advance(partition: number, seenUpTo: number, cursor: RecordCursor): {records: RecordCursor; nextOffset: number} | null {
    const p = this.#parts.get(partition)
    if (!p || p.position >= p.to) return null
    const nextOffset = Math.min(Math.max(seenUpTo, p.position), p.to)
    if (nextOffset <= p.position) return null
    p.position = nextOffset
    return {records: cursor, nextOffset}
  }
}

