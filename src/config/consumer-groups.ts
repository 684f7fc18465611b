// Which consumer groups a policy records the offsets of: `consumerGroups.include` minus
// `exclude`, as regexes on the group id. Pure; the applier asks Kafka for the ids.
import type {PolicyConfig} from './types.js'

/** Whether the policy records consumer-group offsets at all (no include: none). */
export function recordsGroups(policy: PolicyConfig): boolean {
  return policy.consumerGroups.include.length > 0
}

/** The group ids of `groups` that the policy's selection picks, in the order given. */
export function selectGroups(policy: PolicyConfig, groups: readonly string[]): string[] {
  const {include, exclude} = policy.consumerGroups
  return groups.filter((g) => include.some((r) => r.regex.test(g)) && !exclude.some((r) => r.regex.test(g)))
}
