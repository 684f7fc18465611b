// Where kbk keeps its own objects in a store (keys relative to the store's prefix). Segment data
// lives under data/; everything here is kbk's bookkeeping and is never a backup itself.
import {randomBytes} from 'node:crypto'

export const KBK_PREFIX = '_kbk/'
export const STATE_PREFIX = `${KBK_PREFIX}state/`
export const HEAD_KEY = `${STATE_PREFIX}head.json`
export const TOPIC_INDEX_PREFIX = `${STATE_PREFIX}topics/`
export const CHUNK_PREFIX = `${STATE_PREFIX}chunks/`
export const LOCK_KEY = `${KBK_PREFIX}lock.json`

/**
 * Policy names come from config keys and could hold a `/`; topic names are Kafka-safe
 * ([A-Za-z0-9._-]) but encoding both keeps keys unambiguous whatever the names are.
 */
function segmentOf(name: string): string {
  return encodeURIComponent(name)
}

/**
 * Every new index and chunk gets a fresh name: `<serial>-<random>`. The serial keeps a topic's
 * objects in write order; the random part means a crashed commit's leftovers never block the
 * next commit of the same serial (create-only writes would otherwise fail forever).
 */
export function newObjectId(serial: number): string {
  return `${String(serial).padStart(12, '0')}-${randomBytes(6).toString('hex')}`
}

export function topicIndexKey(policy: string, topic: string, id: string): string {
  return `${TOPIC_INDEX_PREFIX}${segmentOf(policy)}/${segmentOf(topic)}/${id}.json`
}

export function chunkKey(policy: string, topic: string, id: string): string {
  return `${CHUNK_PREFIX}${segmentOf(policy)}/${segmentOf(topic)}/${id}.json`
}
