// A Kafka Streams application restored as one (restores.X.streams.applicationId): which restored
// topics are its inputs and changelogs, and which repartition topics are recreated empty on the
// target. Pure; restore/restore-run.ts does it and translates the application's group offsets.
import type {StateSnapshot} from '../../state/types.js'
import type {DesiredRestore, Observed, RestoreStreamsPlan, RestoreTopicPlan} from '../types.js'

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Streams names its internal topics `<application.id>-<name>-changelog` / `-repartition`. */
export function streamsInternal(applicationId: string, kind: 'changelog' | 'repartition'): RegExp {
  return new RegExp(`^${escapeRegex(applicationId)}-.+-${kind}$`)
}

export function planStreams(restore: DesiredRestore, policy: {name: string; cluster: string}, state: StateSnapshot | undefined, observed: Observed, topics: RestoreTopicPlan[]): RestoreStreamsPlan | undefined {
  const app = restore.streamsApplicationId
  if (app === undefined) return undefined
  const changelog = streamsInternal(app, 'changelog')
  const repartition = streamsInternal(app, 'repartition')
  const changelogs = topics.filter((t) => changelog.test(t.source_topic)).map((t) => t.source_topic)
  // Inputs: the restored topics the application's group consumed (it has committed offsets on them).
  const inputs = topics
    .filter((t) => !changelog.test(t.source_topic) && !repartition.test(t.source_topic))
    .filter((t) => state?.topics[`${policy.name}/${t.source_topic}`]?.group_offsets?.[app] !== undefined)
    .map((t) => t.source_topic)
  const source = observed.clusters[policy.cluster]
  const target = observed.clusters[restore.cluster]
  const recreate: RestoreStreamsPlan['repartition'] = []
  for (const [name, view] of Object.entries(source?.topics ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!repartition.test(name)) continue
    const targetTopic = restore.rename[name] ?? `${name}${restore.topicSuffix ?? ''}`
    recreate.push({source_topic: name, target_topic: targetTopic, partitions: view.partitions, configs: {...view.configs}, create: target?.topics[targetTopic] === undefined})
  }
  return {application_id: app, input_topics: inputs, changelog_topics: changelogs, repartition: recreate}
}
