// Memory kept for reuse by the hot paths that allocate a large buffer per unit of work and drop it
// soon after (a backup's Kafka responses, a restore's decompressed blocks): dead external memory
// is what keeps V8 running full collections, and fresh pages cost the kernel a fault each.

/**
 * `size` bytes at offset 0 of memory of their own: from `spares` when one is at least that large
 * and not more than twice it plus `slack` (a small buffer must not pin a large one), else new. New
 * memory is at least a slab's size, so it is never one of Node's shared slabs (it can be
 * transferred to a worker, and reused without touching anyone else's bytes); `onNew` sees it.
 */
export function takeSpare(spares: ArrayBuffer[], size: number, slack: number, onNew?: (memory: ArrayBuffer) => void): Buffer {
  for (let i = spares.length - 1; i >= 0; i--) {
    const ab = spares[i]!
    if (ab.byteLength >= size && ab.byteLength <= 2 * size + slack) {
      spares.splice(i, 1)
      return Buffer.from(ab, 0, size)
    }
  }
  const b = Buffer.allocUnsafeSlow(Math.max(size, Buffer.poolSize + 1))
  onNew?.(b.buffer as ArrayBuffer)
  return b.subarray(0, size)
}

/**
 * Keeps `memory` for a later takeSpare, up to `max` of them; memory already kept is never kept
 * twice (it would then be handed out twice).
 */
export function keepSpare(spares: ArrayBuffer[], memory: ArrayBuffer, max: number): void {
  if (spares.length < max && !spares.includes(memory)) spares.push(memory)
}
