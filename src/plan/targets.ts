// --target addresses checked against what the workspace and the store know, before a plan is
// trusted: a target that matches nothing would give an empty plan that reads as "no changes".
// Pure.
import {closest} from '../config/diagnostics.js'
import {backupAddress, offsetsAddress, parseAddress, policyAddress, restoreAddress} from './addresses.js'
import type {Desired, Observed} from './types.js'

export interface UnknownTarget {
  target: string
  message: string
  /** The closest known address, when one is close enough to be a typo. */
  guess?: string
}

export function findUnknownTargets(targets: readonly string[], desired: Desired, observed: Observed): UnknownTarget[] {
  const policies = new Set(Object.keys(desired.policies))
  const restores = new Set(Object.keys(desired.restores))
  const resets = new Set(Object.keys(desired.offsetResets ?? {}))
  for (const s of Object.values(observed.states)) {
    for (const o of Object.keys(s.offset_resets ?? {})) resets.add(o)
    for (const p of Object.keys(s.policies)) policies.add(p)
    for (const r of Object.keys(s.restores)) restores.add(r)
  }
  const topicsOf = (policy: string): Set<string> | undefined => {
    const topics = new Set<string>()
    for (const s of Object.values(observed.states)) for (const t of Object.values(s.topics)) if (t.policy === policy) topics.add(t.topic)
    const p = desired.policies[policy]
    if (p) {
      const cluster = observed.clusters[p.cluster]
      // Without the cluster the topics cannot be known: accept rather than guess.
      if (!cluster || cluster.error) return undefined
      for (const t of Object.keys(cluster.topics)) if (p.include.some((r) => r.test(t)) && !p.exclude.some((r) => r.test(t))) topics.add(t)
    }
    return topics
  }
  const known = (): string[] => [
    ...[...policies].map(policyAddress),
    ...[...restores].map(restoreAddress),
    ...[...resets].map(offsetsAddress),
    ...[...policies].flatMap((p) => [...(topicsOf(p) ?? [])].map((t) => backupAddress(p, t))),
  ]
  const out: UnknownTarget[] = []
  for (const target of targets) {
    const a = parseAddress(target)
    if (!a) {
      out.push({target, message: `--target "${target}" is not an address.`, guess: closest(target, known())})
      continue
    }
    if (a.type === 'offsets') {
      if (!resets.has(a.name)) out.push({target, message: `--target "${target}": no offset reset "${a.name}" in the workspace or the state.`, guess: closest(target, known())})
      continue
    }
    if (a.type === 'restore') {
      if (!restores.has(a.name)) out.push({target, message: `--target "${target}": no restore "${a.name}" in the workspace or the state.`, guess: closest(target, known())})
      continue
    }
    if (!policies.has(a.name)) {
      out.push({target, message: `--target "${target}": no policy "${a.name}" in the workspace or the state.`, guess: closest(target, known())})
      continue
    }
    if (a.topic === undefined) continue
    const topics = topicsOf(a.name)
    if (topics && !topics.has(a.topic)) {
      const t = closest(a.topic, topics)
      out.push({
        target,
        message: `--target "${target}": policy "${a.name}" has no topic "${a.topic}" (none on its cluster matches it, and the state records none).`,
        guess: t === undefined ? undefined : `${a.type}.${a.name}[${JSON.stringify(t)}]`,
      })
    }
  }
  return out
}
