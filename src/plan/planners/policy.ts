// Policies: created, updated in place, or no longer managed (their backups are kept). Pure.
import {noteText} from '../../format/plan-findings.js'
import type {StateSnapshot} from '../../state/types.js'
import {policyAddress} from '../addresses.js'
import {diffAttributes} from '../attribute-diff.js'
import type {Desired, DesiredPolicy, ResourceChange} from '../types.js'
import {sortedEntries} from './shared.js'

export function planPolicy(policy: DesiredPolicy, state: StateSnapshot | undefined, changes: ResourceChange[]): void {
  const recorded = state?.policies[policy.name]
  const address = policyAddress(policy.name)
  if (!recorded) {
    changes.push({address, type: 'policy', name: policy.name, store: policy.store, actions: ['create'], before: null, after: policy.settings})
    return
  }
  const diff = diffAttributes(recorded.settings, policy.settings)
  if (diff.length > 0) {
    changes.push({address, type: 'policy', name: policy.name, store: policy.store, actions: ['update'], before: recorded.settings, after: policy.settings, diff})
  }
}

export function planRemovedPolicies(desired: Desired, storeName: string, state: StateSnapshot, changes: ResourceChange[]): void {
  for (const [name, recorded] of sortedEntries(state.policies)) {
    const wanted = desired.policies[name]
    if (wanted && wanted.store === storeName) continue
    const topics = Object.values(state.topics).filter((t) => t.policy === name)
    const segments = topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.segment_count, 0), 0)
    changes.push({
      address: policyAddress(name),
      type: 'policy',
      name,
      store: storeName,
      actions: ['delete'],
      before: recorded.settings,
      after: null,
      notes: [noteText({kind: 'policy-unmanaged', store: storeName, movedStore: wanted !== undefined}), noteText({kind: 'policy-backups-kept', store: storeName, segments})],
    })
  }
}
