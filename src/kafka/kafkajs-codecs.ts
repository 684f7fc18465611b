// Compression codecs. kbk decodes fetched record batches itself (record-batch.ts), with
// kafkaDecompressors below: snappy, lz4 and zstd (gzip is built in), so topics whose producers
// compress can be backed up. registerKafkaCodecs gives the same codecs to kafkajs, which only
// knows gzip, for kafkajs producers outside kbk's data path (the quickstart's demo producer, tests).
import {createRequire} from 'node:module'
// kafkajs is CommonJS: Node's ESM loader exposes only some of its exports by name, not CompressionCodecs.
import kafkajs from 'kafkajs'
import {compressFrame, decompressFrame} from 'lz4-napi'
import {compress as zstdCompress, decompress as zstdDecompress} from 'zstd-napi'
import {Compression, type Decompressors} from './record-batch.js'

const {CompressionCodecs, CompressionTypes} = kafkajs

const require = createRequire(import.meta.url)

/** kafkajs' codec contract: compress gets its Encoder (bytes in `.buffer`), decompress the raw bytes. */
export interface KafkajsCodec {
  compress(encoder: {buffer: Buffer}): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

/**
 * Kafka's LZ4 codec is the LZ4 *frame* format (since message format v1; Kafka's Java reader wants
 * independent blocks, which lz4-napi's frame encoder writes), not raw LZ4 blocks.
 */
export const lz4Codec: KafkajsCodec = {
  async compress(encoder) {
    return compressFrame(encoder.buffer)
  },
  async decompress(buffer) {
    return decompressFrame(buffer)
  },
}

/** Level 3 is zstd's default: Kafka producers use it too, and it is fast enough for restores. */
export const zstdCodec: KafkajsCodec = {
  async compress(encoder) {
    return zstdCompress(encoder.buffer, {compressionLevel: 3})
  },
  async decompress(buffer) {
    // Frames written by Java's streaming encoder carry no content size; zstd-napi streams those.
    return zstdDecompress(buffer)
  },
}

let registered = false

export function registerKafkaCodecs(): void {
  if (registered) return
  const snappyCodec = require('kafkajs-snappy') as () => KafkajsCodec
  CompressionCodecs[CompressionTypes.Snappy] = snappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec
  registered = true
}

/** Decompressors for kbk's own record batch decoder (record-batch.ts), by Kafka codec id. gzip is built in. */
export const kafkaDecompressors: Decompressors = {
  [Compression.Snappy]: (b) => (require('kafkajs-snappy') as () => KafkajsCodec)().decompress(b),
  // Async: lz4-napi decompresses on libuv's thread pool, off the main thread.
  [Compression.Lz4]: (b) => decompressFrame(b),
  [Compression.Zstd]: (b) => zstdDecompress(b),
}
