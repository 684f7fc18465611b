// Offset reset intents: which store holds a reset's snapshots and record. Pure, on typed config.
import type {OffsetResetConfig, Workspace} from './types.js'

/**
 * The store a reset writes its snapshots and its record to: the one it names; else, for
 * `to: restored`, the store of the restore's policy (where the offset map is); else the one store
 * the policies backing up its cluster use; else the workspace's only store. Undefined: ambiguous.
 */
export function offsetResetStore(ws: Workspace, reset: OffsetResetConfig): string | undefined {
  if (reset.store !== undefined) return reset.store
  if (reset.to === 'restored' && reset.restore !== undefined) {
    const policy = ws.policies[ws.restores[reset.restore]?.from.policy ?? '']
    if (policy) return policy.store
  }
  const used = [...new Set(Object.values(ws.policies).filter((p) => p.cluster === reset.cluster).map((p) => p.store))]
  if (used.length === 1) return used[0]
  const all = Object.keys(ws.stores)
  return all.length === 1 ? all[0] : undefined
}

/** The setting each `to` needs beside it. */
export const OFFSET_RESET_NEEDS: Record<OffsetResetConfig['to'], 'restore' | 'timestamp' | 'snapshot' | undefined> = {
  restored: 'restore',
  timestamp: 'timestamp',
  snapshot: 'snapshot',
  earliest: undefined,
  latest: undefined,
}
