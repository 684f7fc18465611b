// Rules about restore intents: never onto their own source topics; warn when the restored topics
// would be picked up by a backup policy of the target cluster.
import {compilePattern} from '../normalize.js'
import type {PolicyConfig, RestoreConfig, Workspace} from '../types.js'
import {diagnosticAt, type Rule} from './rule.js'

/** A pattern that is a plain topic name (dots escaped or not), as that name; else undefined. */
export function literalTopic(source: string): string | undefined {
  const unescaped = source.replace(/\\\./g, '.').replace(/\\-/g, '-')
  return /^[A-Za-z0-9._-]+$/.test(unescaped) && !/\.[*+?]/.test(source) ? unescaped : undefined
}

/** A representative topic name matching a pattern (best effort: `orders\..*` → `orders.x`). */
export function sampleTopic(source: string): string | undefined {
  const literal = literalTopic(source)
  if (literal) return literal
  // Wildcards become "x"; escaped dots stay dots. Split on the escapes so the two never mix.
  const sample = source
    .split('\\.')
    .map((part) => part.replace(/\.\*|\.\+/g, 'x'))
    .join('.')
  return compilePattern(source).regex.test(sample) ? sample : undefined
}

function targetName(r: RestoreConfig, topic: string): string {
  return r.to.rename[topic] ?? `${topic}${r.to.topicSuffix ?? ''}`
}

function policyMatches(p: PolicyConfig, topic: string): boolean {
  if (!p.internalTopics && topic.startsWith('__')) return false
  return p.topics.include.some((x) => x.regex.test(topic)) && !p.topics.exclude.some((x) => x.regex.test(topic))
}

export const restoreNotOntoSource: Rule = {
  name: 'restore-not-onto-source',
  description: 'A restore into the cluster its policy backs up must rename its topics (topicSuffix or rename), never write onto the source topics.',
  check({ws}) {
    const out = []
    for (const r of Object.values(ws.restores)) {
      const policy = ws.policies[r.from.policy]
      if (!policy || r.to.cluster === '' || r.to.cluster !== policy.cluster) continue
      if (r.to.topicSuffix) continue
      const fix = `Set restores.${r.name}.to.topicSuffix (e.g. "-restored"), map every topic under to.rename, or restore into another cluster.`
      const renames = Object.entries(r.to.rename)
      if (renames.length === 0) {
        out.push(
          diagnosticAt(ws, ['restores', r.name, 'to'], 'error', 'KBK_CONFIG_RESTORE_ONTO_SOURCE', `restores.${r.name} restores into cluster "${r.to.cluster}", the cluster policy "${policy.name}" backs up, under the same topic names: it would write onto its own source topics`, fix),
        )
        continue
      }
      for (const [src, dst] of renames) {
        if (src === dst) {
          out.push(diagnosticAt(ws, ['restores', r.name, 'to', 'rename', src], 'error', 'KBK_CONFIG_RESTORE_ONTO_SOURCE', `restores.${r.name}.to.rename maps "${src}" onto itself on its source cluster "${r.to.cluster}"`, fix))
        }
      }
      const uncovered = r.topics.include.filter((p) => {
        const lit = literalTopic(p.source)
        return lit === undefined || !(lit in r.to.rename)
      })
      if (uncovered.length > 0) {
        out.push(
          diagnosticAt(
            ws,
            ['restores', r.name, 'topics', 'include'],
            'error',
            'KBK_CONFIG_RESTORE_ONTO_SOURCE',
            `restores.${r.name}: topics matching ${uncovered.map((p) => JSON.stringify(p.source)).join(', ')} are not all under to.rename, so they would be restored onto themselves on their source cluster "${r.to.cluster}"`,
            fix,
          ),
        )
      }
    }
    return out
  },
}

export const restoreTargetsNotBackedUp: Rule = {
  name: 'restore-targets-not-backed-up',
  description: 'Warns when the topics a restore writes would match a backup policy of the target cluster (the restored copy would be backed up again).',
  check({ws}) {
    const out = []
    for (const r of Object.values(ws.restores)) {
      if (!ws.policies[r.from.policy]) continue
      const targets = new Set<string>()
      for (const p of r.topics.include) {
        const sample = sampleTopic(p.source)
        // A target that is its own source is restore-not-onto-source's error, not this warning.
        if (sample !== undefined && !r.topics.exclude.some((x) => x.regex.test(sample)) && targetName(r, sample) !== sample) targets.add(targetName(r, sample))
      }
      for (const [src, dst] of Object.entries(r.to.rename)) if (src !== dst) targets.add(dst)
      for (const policy of policiesOn(ws, r.to.cluster)) {
        const hit = [...targets].find((t) => policyMatches(policy, t))
        if (!hit) continue
        const suffix = r.to.topicSuffix
        out.push(
          diagnosticAt(
            ws,
            ['restores', r.name, 'to'],
            'warning',
            'KBK_CONFIG_RESTORE_TARGET_BACKED_UP',
            `restores.${r.name} writes topics such as "${hit}", which policy "${policy.name}" would then back up as new data`,
            suffix ? `Add ".*${escapeRegex(suffix)}" to policies.${policy.name}.topics.exclude.` : `Exclude the restored topic names in policies.${policy.name}.topics.exclude.`,
          ),
        )
      }
    }
    return out
  },
}

function policiesOn(ws: Workspace, cluster: string): PolicyConfig[] {
  return Object.values(ws.policies).filter((p) => p.cluster === cluster)
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
