// The runbook use case: runbooks for *this* workspace — its policies, topics, stores, clusters,
// restore intents and consumer groups by name — with exact commands, a check after each step,
// rollback, and a time estimate from the restore throughput past drills measured and the bytes
// involved. `kbk runbook` renders them; `kbk apply` keeps the current ones in the store.
import type {DrillEvidence} from '../audit/evidence.js'
import type {Workspace} from '../config/types.js'
import type {StateSnapshot} from '../state/types.js'
import type {Plan} from '../plan/types.js'
import type {ObjectStore} from '../storage/object-store.js'
import {formatRunbookHtml, formatRunbookMarkdown, type Runbook, type RunbookSet} from '../format/runbook.js'
import type {WorkspaceContext} from './workspace.js'

export interface RunbookFacts {
  workspace: Workspace
  kbkVersion: string
  /** Per store: its state (empty when none yet). */
  states: Record<string, StateSnapshot>
  /** Drill evidence of every store, for the measured throughput. */
  evidence: DrillEvidence[]
  /** Names of the environment variables the workspace reads (never their values). */
  envNames: string[]
  /** The workspace file new restore intents are appended to. */
  configFile: string
}

/** Used when no drill has measured one yet: deliberately slow, so an estimate errs long. */
const ASSUMED_BYTES_PER_SEC = 5 * 1024 * 1024
/** Minutes a person needs per step for reading, checking and typing, beside the data transfer. */
const MINUTES_PER_STEP = 2

export async function readRunbookFacts(ctx: WorkspaceContext, envNames: string[], configFile: string): Promise<RunbookFacts> {
  const {readEvidence} = await import('../audit/evidence.js')
  const states: Record<string, StateSnapshot> = {}
  const evidence: DrillEvidence[] = []
  const used = [...new Set(Object.values(ctx.workspace.policies).map((p) => p.store))].sort()
  for (const name of used) {
    const h = ctx.storeHandle(name)
    states[name] = (await h.state.read()).snapshot
    for (const e of await readEvidence(h.store)) if (e.evidence) evidence.push(e.evidence)
  }
  return {workspace: ctx.workspace, kbkVersion: ctx.kbkVersion, states, evidence, envNames, configFile}
}

function throughput(facts: RunbookFacts): {bytesPerSec: number; basis: string} {
  const runs = facts.evidence.filter((e) => e.result === 'pass' && e.bytes > 0 && e.rto.measured_ms > 0)
  if (runs.length === 0) return {bytesPerSec: ASSUMED_BYTES_PER_SEC, basis: `no drill has measured restore throughput yet, so ${mb(ASSUMED_BYTES_PER_SEC)}/s is assumed; run \`kbk drill NAME\` to measure it`}
  const bytes = runs.reduce((n, e) => n + e.bytes, 0)
  const ms = runs.reduce((n, e) => n + e.rto.measured_ms, 0)
  const rate = (bytes / ms) * 1000
  return {bytesPerSec: rate, basis: `${mb(rate)}/s restore-and-validate throughput measured over ${runs.length} passing drill(s)`}
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}

function estimate(facts: RunbookFacts, bytes: number, steps: number): Runbook['estimate'] {
  const t = throughput(facts)
  const transfer = bytes / t.bytesPerSec / 60
  return {minutes: transfer + steps * MINUTES_PER_STEP, basis: `${mb(bytes)} to restore at ${t.basis}, plus ${MINUTES_PER_STEP} min per step for checks`}
}

function policyBytes(facts: RunbookFacts, policy: string, topic?: string): number {
  let n = 0
  for (const s of Object.values(facts.states)) for (const t of Object.values(s.topics)) if (t.policy === policy && (!topic || t.topic === topic)) n += t.partitions.reduce((m, p) => m + p.uncompressed_bytes, 0)
  return n
}

function yamlAppend(file: string, lines: string[]): string {
  // One line, no heredoc: copy-paste safe in any POSIX shell.
  return `printf '%s\\n' ${lines.map((l) => `'${l.replace(/'/g, `'\\''`)}'`).join(' ')} >> ${file}`
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Every runbook for this workspace. */
export function buildRunbooks(facts: RunbookFacts): RunbookSet {
  const ws = facts.workspace
  const policies = Object.values(ws.policies).sort((a, b) => a.name.localeCompare(b.name))
  const restores = Object.values(ws.restores).sort((a, b) => a.name.localeCompare(b.name))
  const plainRestores = restores.filter((r) => !r.drill)
  const drills = restores.filter((r) => r.drill)
  const policy = policies[0]
  const pName = policy?.name ?? 'POLICY'
  const storeName = policy?.store ?? Object.keys(ws.stores)[0] ?? 'STORE'
  const state = facts.states[storeName]
  const topics = Object.values(state?.topics ?? {}).filter((t) => t.policy === pName && !t.deleted_at).sort((a, b) => a.topic.localeCompare(b.topic))
  const topic = topics[0]?.topic ?? 'TOPIC'
  const groups = [...new Set(topics.flatMap((t) => Object.keys(t.group_offsets ?? {})))].sort()
  // Restores go to a cluster that is not the policy's own where the workspace has one.
  const scratchCluster = restores.find((r) => r.to.cluster !== policy?.cluster)?.to.cluster ?? policy?.cluster ?? 'CLUSTER'
  const env = facts.envNames.length > 0 ? `Environment variables the workspace reads, set in this shell (values from your secret store; never paste them into tickets): ${facts.envNames.map((n) => `\`${n}\``).join(', ')}.` : 'The workspace reads no environment variables.'
  const common = [
    `kbk ${facts.kbkVersion} on the PATH (\`kbk version\`), run from the directory holding \`${facts.configFile}\` (or with \`KBK_CONFIG\` set to it).`,
    env,
    `Read access to store${Object.keys(ws.stores).length > 1 ? 's' : ''} ${Object.keys(ws.stores).map((s) => `"${s}"`).join(', ')} and to the clusters named below; write access where a step writes.`,
  ]
  const set: Runbook[] = []

  // 1. Full cluster restore.
  {
    const steps: Runbook['steps'] = [
      {title: 'Check the workspace', commands: ['kbk validate'], validate: {commands: [], expect: 'exit 0 and "valid"; fix any error it names (file:line:column) before going on.'}},
      {title: 'Check the backups are sound', why: 'Every segment is read back, its checksums checked and its records decoded before anything is restored.', commands: [`kbk verify --deep --store ${storeName}`], validate: {commands: [], expect: 'exit 0 and "OK"; a damaged segment is named: restore it from a bucket version first.'}},
      {title: 'See what is restorable', commands: [`kbk backups list --store ${storeName}`], validate: {commands: [], expect: `every topic of ${policies.map((p) => `policy "${p.name}"`).join(', ') || 'your policies'} is listed with its newest point in time.`}},
    ]
    if (plainRestores.length > 0) {
      const targets = plainRestores.map((r) => `--target restore.${r.name}`).join(' ')
      steps.push(
        {title: 'Plan the restore', why: `The restore intents ${plainRestores.map((r) => `"${r.name}"`).join(', ')} write into new topics (never onto the source topics).`, commands: [`kbk plan ${targets} --out full-restore.plan`], validate: {commands: [], expect: 'each restore is listed with its topics, target names and record counts, and the plan has no errors.'}},
        {title: 'Run it', commands: ['kbk apply full-restore.plan'], validate: {commands: plainRestores.map((r) => `kbk state show restore.${r.name}`), expect: 'each restore shows status complete and the number of records restored.'}},
      )
    }
    const bytes = policies.reduce((n, p) => n + policyBytes(facts, p.name), 0)
    set.push({
      id: 'full-cluster-restore',
      title: 'Full cluster restore',
      summary: `Restore every backed-up topic of ${policies.map((p) => `policy "${p.name}"`).join(', ') || 'the workspace'} into new topics${plainRestores.length > 0 ? `, through the restore intents ${plainRestores.map((r) => `"${r.name}" (to cluster "${r.to.cluster}")`).join(', ')}` : ''}.${plainRestores.length === 0 ? ' The workspace declares no plain restore intent: declare one under `restores:` (from the policy, to the recovery cluster, createTopics: true), then plan and apply it with the commands of the single-topic runbook.' : ''}`,
      estimate: estimate(facts, bytes, steps.length),
      prerequisites: [...common, `Write access (create topics, produce) on the target cluster${plainRestores.length > 1 ? 's' : ''} ${[...new Set(plainRestores.map((r) => `"${r.to.cluster}"`))].join(', ') || ''}.`],
      steps,
      rollback: [
        'A restore never writes to the source topics, so the source is unchanged: nothing to undo there.',
        `Delete the restored topics on the target cluster with your Kafka tooling (they are named in \`kbk state show restore.NAME\`) and run the restore again; kbk resumes an interrupted restore by itself.`,
      ],
    })
  }

  // 2. Single-topic point-in-time restore.
  {
    const name = `pitr-${topic.replace(/[^A-Za-z0-9_-]+/g, '-')}`.slice(0, 60)
    const lines = [`  ${name}:`, `    from: {policy: ${pName}, pointInTime: "\${PITR_AT:-latest}"}`, `    to: {cluster: ${scratchCluster}, topicSuffix: -pitr}`, `    topics: {include: ["${regexEscape(topic).replace(/\\/g, '\\\\')}"]}`, '    createTopics: true', '    extendRetention: true']
    const steps: Runbook['steps'] = [
      {title: 'See the restorable time range of the topic', commands: [`kbk backups describe 'backup.${pName}[${JSON.stringify(topic)}]'`], validate: {commands: [], expect: 'the oldest and newest restorable times; pick the point in time inside them (export PITR_AT=2026-03-22T14:30:00Z; unset, the newest is used).'}},
      {title: `Declare the restore intent "${name}"`, why: `Appends it to ${facts.configFile} (after \`kbk fmt\`, which puts restores: last); records with a timestamp after PITR_AT are not restored. The topic is restored as "${topic}-pitr" on cluster "${scratchCluster}", never onto "${topic}".`, commands: ['kbk fmt', `grep -q '^restores:' ${facts.configFile} || printf 'restores:\\n' >> ${facts.configFile}`, yamlAppend(facts.configFile, lines), 'kbk fmt'], validate: {commands: ['kbk validate'], expect: 'exit 0.'}},
      {title: 'Plan the restore', commands: [`kbk plan --target restore.${name} --out pitr.plan`], validate: {commands: [], expect: `one restore into "${topic}-pitr", pinned to the point in time, with the record count to restore.`}},
      {title: 'Run it', commands: ['kbk apply pitr.plan'], validate: {commands: [`kbk state show restore.${name}`], expect: 'status complete, and the records restored.'}},
    ]
    set.push({
      id: 'single-topic-pitr-restore',
      title: `Single-topic point-in-time restore (${topic})`,
      summary: `Restore topic "${topic}" of policy "${pName}" as it was at a point in time, into a new topic beside it. Use it after a bad deploy or a poison message: consumers are then pointed at the restored topic, or its records are copied back by the application.`,
      estimate: estimate(facts, policyBytes(facts, pName, topic), steps.length),
      prerequisites: [...common, `Write access on cluster "${scratchCluster}" (create topic, produce).`, 'The point in time, as an ISO timestamp with a zone, in PITR_AT (or unset for the newest backup).'],
      steps,
      rollback: [`Delete topic "${topic}-pitr" on cluster "${scratchCluster}" with your Kafka tooling.`, `Remove the restore intent "${name}" from ${facts.configFile} (its record stays in the state as history).`],
    })
  }

  // 3. Consumer offset recovery.
  {
    const name = `offsets-${topic.replace(/[^A-Za-z0-9_-]+/g, '-')}`.slice(0, 60)
    const groupList = groups.length > 0 ? groups : ['GROUP']
    const lines = [`  ${name}:`, `    from: {policy: ${pName}}`, `    to: {cluster: ${scratchCluster}, topicSuffix: -recovered}`, `    topics: {include: ["${regexEscape(topic).replace(/\\/g, '\\\\')}"]}`, '    createTopics: true', '    extendRetention: true', `    consumerGroups: {translate: [${groupList.map((g) => JSON.stringify(g)).join(', ')}]}`]
    const steps: Runbook['steps'] = [
      {title: 'See the committed offsets kbk captured', why: `kbk records the committed offsets of ${groups.length > 0 ? `groups ${groups.map((g) => `"${g}"`).join(', ')}` : 'the selected consumer groups'} with every backup of "${topic}".`, commands: [`kbk backups describe 'backup.${pName}[${JSON.stringify(topic)}]' --json`], validate: {commands: [], expect: 'the topic\'s partitions with their restorable offsets; the captured group offsets are in the state (`kbk state show` of the topic).'}},
      {title: `Declare a restore that translates the groups' offsets`, why: 'The offsets are translated through the restore\'s offset map, so each group resumes at the same record in the restored topic. The groups must have no active members while their offsets are set.', commands: ['kbk fmt', `grep -q '^restores:' ${facts.configFile} || printf 'restores:\\n' >> ${facts.configFile}`, yamlAppend(facts.configFile, lines), 'kbk fmt'], validate: {commands: ['kbk validate'], expect: 'exit 0.'}},
      {title: 'Plan and run it', commands: [`kbk plan --target restore.${name} --out offsets.plan`, 'kbk apply offsets.plan'], validate: {commands: [`kbk state show restore.${name}`], expect: `status complete; the groups now have committed offsets on "${topic}-recovered" on cluster "${scratchCluster}" (check with kafka-consumer-groups.sh --describe).`}},
    ]
    set.push({
      id: 'consumer-offset-recovery',
      title: `Consumer offset recovery (${topic})`,
      summary: `Recover the committed offsets of the consumer groups of "${topic}" onto a restored copy, so consumers resume where they were.`,
      estimate: estimate(facts, policyBytes(facts, pName, topic), steps.length),
      prerequisites: [...common, `Write access on cluster "${scratchCluster}" (create topic, produce, alter consumer group offsets).`, 'The consumer applications stopped (a group with active members cannot have its offsets set).'],
      steps,
      rollback: [`Delete topic "${topic}-recovered" on cluster "${scratchCluster}"; the groups' offsets on the original topic were never touched.`, `Remove the restore intent "${name}" from ${facts.configFile}.`],
    })
  }

  // 4. Backup failure investigation.
  {
    const steps: Runbook['steps'] = [
      {title: 'Is another run holding the lock?', commands: [`kbk lock list --store ${storeName}`], validate: {commands: [], expect: 'no lock, or one whose holder and heartbeat you recognise. A lock of a dead run expires by itself; `kbk lock release ID` breaks it deliberately.'}},
      {title: 'What did the last runs do?', commands: [`kbk audit list --store ${storeName}`], validate: {commands: [`kbk audit verify --store ${storeName}`], expect: 'the failed run is listed with its outcome; the audit trail verifies (exit 0).'}},
      {title: 'What is different from what kbk recorded?', why: 'Drift: data loss, missing segments, RPO breaches, unreachable clusters, each with its fix.', commands: ['kbk plan --refresh-only'], validate: {commands: [], expect: 'each finding names its address and a fix; an unreachable cluster or store is an error naming it.'}},
      {title: 'Are the recorded backups intact?', commands: [`kbk verify --store ${storeName}`], validate: {commands: [], expect: 'exit 0 and "OK": every recorded object is present with its size.'}},
      {title: 'Run the backup again', why: 'An interrupted or failed apply loses and duplicates nothing: rerunning converges.', commands: policies.map((p) => `kbk apply --auto-approve --target policy.${p.name}`), validate: {commands: [`kbk backups list --store ${storeName}`], expect: 'exit 0, and the newest backup time of each topic is now.'}},
    ]
    set.push({
      id: 'backup-failure-investigation',
      title: 'Backup failure investigation',
      summary: `A scheduled \`kbk apply\` failed or the RPO alert fired for ${policies.map((p) => `"${p.name}"`).join(', ')}: find out why, and get the backups current again.`,
      estimate: {minutes: steps.length * MINUTES_PER_STEP, basis: `${MINUTES_PER_STEP} min per step; the rerun copies only what is new`},
      prerequisites: common,
      steps,
      rollback: ['Nothing to undo: these steps only read, and the rerun only adds segments. If the rerun fails the same way, keep its output and the `kbk audit list` entry for the ticket.'],
    })
  }

  // 5. Storage failover.
  {
    const others = Object.keys(ws.stores).filter((s) => s !== storeName)
    const steps: Runbook['steps'] = [
      {title: `Confirm store "${storeName}" is the problem`, commands: [`kbk state list --store ${storeName}`], validate: {commands: [], expect: 'an error naming the store (unreachable, access denied) confirms it; if it lists the state, the store is fine: use the backup failure runbook instead.'}},
      {title: 'Check the state and backups that are readable', commands: [`kbk verify --store ${storeName}`], validate: {commands: [], expect: 'what is still readable; note the newest backup time for the incident record.'}},
      {
        title: 'Point the policies at the standby store, and plan',
        why: `Edit \`store:\` of ${policies.filter((p) => p.store === storeName).map((p) => `policies.${p.name}`).join(', ') || 'the affected policies'} in ${facts.configFile} to ${others.length > 0 ? others.map((s) => `"${s}"`).join(' or ') : 'a standby store (declare one under `stores:` first)'}. The standby store starts its own state: the first apply there is a full backup of what Kafka still holds.`,
        commands: ['kbk validate', 'kbk plan'],
        validate: {commands: [], expect: 'the plan shows the policies created in the standby store and a first backup of each topic; nothing is deleted anywhere.'},
      },
    ]
    set.push({
      id: 'storage-failover',
      title: `Storage failover (store "${storeName}")`,
      summary: `Store "${storeName}" is unavailable: keep taking backups by moving the policies to another store, and keep restoring from whatever is still readable.`,
      estimate: estimate(facts, policies.filter((p) => p.store === storeName).reduce((n, p) => n + policyBytes(facts, p.name), 0), steps.length),
      prerequisites: [...common, others.length > 0 ? `Credentials for the standby store${others.length > 1 ? 's' : ''} ${others.map((s) => `"${s}"`).join(', ')}.` : 'A standby store declared under `stores:`, with its credentials.'],
      steps,
      rollback: [`When "${storeName}" is back, change \`store:\` back in ${facts.configFile}, run \`kbk plan\` and \`kbk apply\`: kbk continues from the state it recorded there.`, 'Keep the standby store\'s backups until their retention expires them: they are restorable.'],
    })
  }

  // 6. Configuration change rollout.
  {
    const steps: Runbook['steps'] = [
      {title: 'Format and validate the change', commands: ['kbk fmt', 'kbk validate'], validate: {commands: [], expect: 'exit 0; every error names file:line:column and a fix.'}},
      {title: 'Plan it and save the plan', commands: ['kbk plan --out change.plan'], validate: {commands: ['kbk show change.plan'], expect: 'exactly the changes you meant: policies created or updated, backups, restores and due drills; a destructive change is marked - and needs allowDestroy.'}},
      {title: 'Apply exactly the reviewed plan', why: 'A saved plan is refused if the state or the config changed since it was made ("Saved plan is stale").', commands: ['kbk apply change.plan'], validate: {commands: ['kbk plan', `kbk audit verify --store ${storeName}`], expect: 'the apply ends with its summary; the next plan shows only new records to back up; the audit trail verifies.'}},
    ]
    set.push({
      id: 'configuration-change-rollout',
      title: 'Configuration change rollout',
      summary: `Roll out a change to ${facts.configFile} (policies, retention, tags, restores${drills.length > 0 ? `, drills ${drills.map((d) => `"${d.name}"`).join(', ')}` : ''}) with a reviewed, saved plan.`,
      estimate: {minutes: steps.length * MINUTES_PER_STEP, basis: `${MINUTES_PER_STEP} min per step, plus the backups and restores the plan runs`},
      prerequisites: [...common, 'The change reviewed in a pull request, where `kbk plan --format markdown` was posted.'],
      steps,
      rollback: ['Revert the commit of the change, then run these same steps again: kbk plans the way back.', 'Backup data deleted by an expiry cannot be brought back: that is why expiry needs allowDestroy and shows as - in the plan.'],
    })
  }
  return {generated_for: {workspace_digest: ws.digest, kbk_version: facts.kbkVersion}, runbooks: set}
}

/** The rendered files of a runbook set: name -> content. */
export function renderRunbooks(set: RunbookSet, format: 'markdown' | 'html'): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of set.runbooks) out[`${r.id}.${format === 'html' ? 'html' : 'md'}`] = format === 'html' ? formatRunbookHtml(r, set.generated_for) : formatRunbookMarkdown(r, set.generated_for)
  return out
}

/** The runbook files whose stored copy in `store` differs from `files` (absent or other bytes). */
async function staleRunbooks(store: ObjectStore, files: Record<string, string>): Promise<Array<{file: string; key: string; body: Buffer; exists: boolean}>> {
  const {RUNBOOK_PREFIX} = await import('../audit/evidence.js')
  const stale = []
  for (const [file, text] of Object.entries(files)) {
    const key = `${RUNBOOK_PREFIX}${file}`
    const body = Buffer.from(text)
    const old = await store.head(key)
    if (old && old.size === body.length && (await store.get(key)).equals(body)) continue
    stale.push({file, key, body, exists: old !== undefined})
  }
  return stale
}

/**
 * Keeps the current runbooks in each store the apply touched, under _kbk/runbooks/ (markdown),
 * so they are readable from the store when the wiki is down. Writes only what changed; returns
 * the names written.
 */
export async function storeRunbooks(ctx: WorkspaceContext, stores: string[], envNames: string[], configFile: string): Promise<string[]> {
  const files = renderRunbooks(buildRunbooks(await readRunbookFacts(ctx, envNames, configFile)), 'markdown')
  const written: string[] = []
  for (const name of stores) {
    const store = ctx.storeHandle(name).store
    for (const r of await staleRunbooks(store, files)) {
      await store.put(r.key, r.body, {contentType: 'text/markdown; charset=utf-8'})
      written.push(`${name}:${r.key}`)
    }
  }
  return written
}

/**
 * The plan says when an apply of it will rewrite the runbooks kept in a store: a note on the
 * plan's first change in that store. Only plans with something to apply (an apply of "No
 * changes" writes nothing); the runbooks as of now, so estimates that grow with the apply's own
 * bytes may move a little more.
 */
export async function addRunbookNotes(ctx: WorkspaceContext, plan: Plan, envNames: string[], configFile: string): Promise<void> {
  const active = plan.resource_changes.filter((ch) => !ch.blocked)
  if (plan.refresh_only || active.length === 0) return
  // A note, never a reason to fail the plan: a store that cannot be read (a restore reading a
  // replica while the primary is down) was reported by the refresh already; without its state
  // the runbooks cannot be built, and the plan goes on without the note.
  let files: Record<string, string>
  try {
    files = renderRunbooks(buildRunbooks(await readRunbookFacts(ctx, envNames, configFile)), 'markdown')
  } catch {
    return
  }
  for (const name of Object.keys(plan.states).sort()) {
    const stale = await staleRunbooks(ctx.storeHandle(name).store, files).catch(() => [])
    if (stale.length === 0) continue
    const ch = active.find((c) => c.store === name) ?? active[0]!
    ch.notes = [...(ch.notes ?? []), `runbooks kept in store "${name}" are rewritten by this apply (kbk runbook shows them): ${stale.map((r) => `${r.exists ? '~' : '+'} ${r.file}`).join(', ')}`]
  }
}
