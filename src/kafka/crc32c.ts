// CRC-32C (Castagnoli): the record batch checksum, computed over every byte kbk fetches (issue 21
// checks each fetched batch) and every byte it produces. In JavaScript it was the largest kbk
// function of a backup's main thread (12 %, docs/performance.md); @node-rs/crc32 computes it with
// the CPU's CRC32 instruction, about 8× faster on this machine. Where its prebuilt binary does not
// load (a platform it has none for), the portable slicing-by-8 version below is used instead.
import {createRequire} from 'node:module'

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number

function loadNative(): NativeCrc32c | undefined {
  if (process.env.KBK_CRC32C === 'js') return undefined
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as {crc32c?: NativeCrc32c}
    const f = mod.crc32c
    // Checked once against the standard check value before it is trusted with every batch.
    return typeof f === 'function' && f(Buffer.from('123456789')) === 0xe3069283 ? f : undefined
  } catch {
    return undefined
  }
}

const NATIVE = loadNative()

/** Which implementation computes checksums in this process (for the bench and `kbk version --verbose`-style reports). */
export const crc32cImplementation: 'native' | 'js' = NATIVE ? 'native' : 'js'

/** CRC-32C of buf[start, end). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (NATIVE) return NATIVE(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
  return crc32cJs(buf, start, end)
}

// ---- portable: slicing by 8 ----
const CRC_TABLE = (() => {
  const t = new Int32Array(8 * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!
  return t
})()

/** CRC-32C of buf[start, end), in JavaScript. */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLE
  let crc = -1
  let i = start
  for (const last = end - 8; i <= last; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
