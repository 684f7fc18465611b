// The segment format: self-describing, checksummed, optionally encrypted objects of Kafka records
// (writer, streaming reader, footer-only summary, object naming). Byte layout: docs/format.md.
export type {SegmentOptions, SegmentSummary, SegmentBlockInfo, SegmentReadOptions} from './types.js'
export {SegmentWriter} from './writer.js'
export type {SegmentFinish} from './writer.js'
export {readSegment, readSegmentBlocks, decodeSegment, readSegmentSummary, parseSegmentFooter, readSegmentSummaryByRange, SUMMARY_TAIL_BYTES} from './reader.js'
export type {ScannedBlock} from './record-scan.js'
export type {SegmentFooter} from './reader.js'
export {segmentKey, parseSegmentKey, SEGMENT_KEY_PREFIX, SEGMENT_EXTENSION} from './segment-key.js'
export type {SegmentKeyParts} from './segment-key.js'
export {TRAILER_BYTES, FORMAT_VERSION, DEFAULT_BLOCK_BYTES, DEFAULT_ZSTD_LEVEL, MAX_BLOCK_BYTES} from './layout.js'
