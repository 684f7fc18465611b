// --policy/--topic filters of the read-only commands (verify, backups list): a filter that
// matches nothing is a mistake to report with a did-you-mean, not an empty "OK" that a script
// would take for success.
import {closest} from '../config/diagnostics.js'
import {KbkError} from '../errors.js'
import type {StateSnapshot} from '../state/types.js'

export interface StateFilter {
  policy?: string
  topic?: string
}

/** Throws KBK_FILTER_NO_MATCH when --policy names no policy, or --topic no recorded topic. */
export function assertFilterMatches(filter: StateFilter, known: {configPolicies: string[]; snapshot: StateSnapshot; storeName: string}): void {
  const {snapshot, storeName} = known
  if (filter.policy !== undefined) {
    const policies = new Set([...known.configPolicies, ...Object.keys(snapshot.policies)])
    if (!policies.has(filter.policy)) {
      const guess = closest(filter.policy, policies)
      throw new KbkError('KBK_FILTER_NO_MATCH', `--policy "${filter.policy}": no such policy in the workspace or in the state of store "${storeName}".${guess ? ` Did you mean "${guess}"?` : ''}`, {
        suggestion: policies.size > 0 ? `Policies: ${[...policies].sort().join(', ')}.` : 'The workspace has no policies yet.',
        details: {policy: filter.policy, ...(guess ? {did_you_mean: guess} : {})},
      })
    }
  }
  if (filter.topic !== undefined) {
    const topics = new Set(Object.values(snapshot.topics).filter((t) => filter.policy === undefined || t.policy === filter.policy).map((t) => t.topic))
    if (!topics.has(filter.topic)) {
      const guess = closest(filter.topic, topics)
      const under = filter.policy === undefined ? '' : ` under policy "${filter.policy}"`
      throw new KbkError('KBK_FILTER_NO_MATCH', `--topic "${filter.topic}": no backups of this topic${under} are recorded in store "${storeName}".${guess ? ` Did you mean "${guess}"?` : ''}`, {
        suggestion: 'Run `kbk backups list` to see the topics with backups.',
        details: {topic: filter.topic, ...(guess ? {did_you_mean: guess} : {})},
      })
    }
  }
}
