// What a backup run of one policy needs beyond the plan: the segment codec and key, where
// segments are cut, how long an immutable tier locks them, masking, and which consumer groups'
// offsets to record.
import type {BackupRuntime} from '../apply/backup-run.js'
import {createMasker} from '../apply/masking.js'
import {recordsGroups, selectGroups} from '../config/consumer-groups.js'
import {decodeKey, keyringOf} from '../config/encryption-keys.js'
import type {PolicyConfig} from '../config/types.js'
import type {Clock} from './clock.js'

/** How long an immutable tier with `maxAge: never` locks its objects: a century is "forever" to any store. */
const FOREVER_MS = 100 * 365 * 86_400_000

export function backupRuntimeOf(p: PolicyConfig, now: Clock): BackupRuntime {
  const stats = {masked: 0, notJson: 0}
  // The lock lasts exactly maxAge from now: by the time a segment is old enough to expire, the
  // store lets it go, and not a moment earlier.
  const retainUntil = p.tier.immutable ? new Date(now().getTime() + (p.tier.maxAgeMs ?? FOREVER_MS)) : undefined
  return {
    segment: {
      codec: p.compression.codec,
      level: p.compression.level,
      ...(p.encryption ? {encryption: {keyId: p.encryption.keyId, masterKey: decodeKey(p.encryption, p.name)}} : {}),
    },
    segmentMaxBytes: p.segment.maxBytes,
    ...(p.verify !== 'off' ? {verify: {mode: p.verify, keyring: keyringOf(p)}} : {}),
    ...(p.segment.maxRecords !== undefined ? {segmentMaxRecords: p.segment.maxRecords} : {}),
    ...(retainUntil ? {retainUntil} : {}),
    ...(p.masking ? {transform: createMasker(p.masking.fields, p.masking.mode, stats), masking: stats} : {}),
    ...(p.rateLimit ? {rateLimit: p.rateLimit} : {}),
    groups: !recordsGroups(p)
      ? undefined
      : async (kafka, topic) => {
          const ids = selectGroups(p, await kafka.listGroups())
          const out: Record<string, Record<number, number>> = {}
          for (const g of ids.length > 0 ? await kafka.groupOffsets(ids) : []) {
            const offsets = g.offsets[topic]
            if (offsets && Object.keys(offsets).length > 0) out[g.groupId] = offsets
          }
          return out
        },
  }
}
