// Golden scenarios for the executors: each folder of test/scenarios-apply/ holds a scenario.json
// (topics, policies, restores, and steps: seed records, move the clock, plan+apply with optional
// faults) and the expected outputs, produced by running the real refresh, planner, applier and
// restore engine over the in-memory Kafka port and store, then the real renderers:
//   transcript.txt  per apply step: the plan as text, the applier's events, the apply summary
//   plan.md         each step's plan as markdown (the PR-comment renderer)
//   state.json      the state after the last step: snapshot and every recorded segment
//   kafka.json      what each target topic of a restore holds at the end
// Regenerate with `npm run scenarios:update:apply` and review the diff like code.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {ApplyEvent} from '../../src/apply/events.js'
import {KbkError} from '../../src/errors.js'
import {setColorEnabled} from '../../src/format/colors.js'
import {formatApplySummary} from '../../src/format/apply-text.js'
import {formatPlanMarkdown, formatPlanText} from '../../src/format/plan-text.js'
import type {Desired, DesiredPolicy, DesiredRestore} from '../../src/plan/types.js'
import {DAY, desired, policy, restore} from '../unit/plan/fixtures.js'
import {World, records} from './executor-world.js'

export const SCENARIO_ROOT = new URL('../scenarios-apply/', import.meta.url)
export const OUTPUT_FILES = ['transcript.txt', 'plan.md', 'state.json', 'kafka.json'] as const

interface PolicyInput {
  include?: string[]
  exclude?: string[]
  retention?: {maxAgeDays?: number | null; minKeep?: number; immutable?: boolean; allowDestroy?: boolean; tier?: string}
}

interface RestoreInput {
  policy: string
  cluster: string
  pointInTime?: string
  include?: string[]
  topicSuffix?: string
  ifTargetNotEmpty?: 'fail' | 'append'
  /** In the config from this step on (1-based): e.g. after the backups it restores exist. */
  fromStep?: number
}

type Step =
  | {seed: {cluster?: string; topic: string; partition?: number; count: number; stepMs?: number}}
  | {advance: {days?: number; hours?: number; ms?: number}}
  | {retention: {cluster?: string; topic: string; partition?: number; deleteBefore: number}}
  | {apply: {
      /** The read of this partition fails after this many batches of it (25 records each). */
      failReadAfterBatches?: {partition: number; batches: number}
      /** This produce request (1-based, counted over the step) fails before anything of it lands. */
      failProduceAt?: number
      /** SIGINT arrives before this batch (1-based, over all partitions) is handed on. */
      interruptAtBatch?: number
    }}

export interface Scenario {
  description: string
  start?: string
  /** cluster -> topic -> partitions (and configs). */
  clusters: Record<string, Record<string, {partitions: number; configs?: Record<string, string>}>>
  policies: Record<string, PolicyInput>
  restores?: Record<string, RestoreInput>
  runtime?: {segmentMaxRecords?: number}
  steps: Step[]
}

export function scenarioNames(): string[] {
  const root = SCENARIO_ROOT
  if (!existsSync(root)) return []
  return readdirSync(root, {withFileTypes: true}).filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/scenario.json`, root))).map((d) => d.name).sort()
}

export function scenarioDir(name: string): string {
  return join(SCENARIO_ROOT.pathname, name)
}

function desiredOf(s: Scenario, step: number): Desired {
  const policies: DesiredPolicy[] = Object.entries(s.policies).map(([name, p]) => {
    const r = p.retention ?? {}
    return policy(name, {
      ...(p.include ? {include: p.include.map((x) => new RegExp(x))} : {}),
      ...(p.exclude ? {exclude: p.exclude.map((x) => new RegExp(x))} : {}),
      retention: {tier: r.tier ?? 'production', maxAgeMs: r.maxAgeDays === null ? null : (r.maxAgeDays ?? 90) * DAY, minKeep: r.minKeep ?? 3, immutable: r.immutable ?? false, allowDestroy: r.allowDestroy ?? true},
    } as Partial<DesiredPolicy>)
  })
  const restores: DesiredRestore[] = Object.entries(s.restores ?? {}).filter(([, r]) => (r.fromStep ?? 1) <= step).map(([name, r]) =>
    restore(name, {
      policy: r.policy,
      cluster: r.cluster,
      pointInTime: r.pointInTime ?? 'latest',
      ...(r.include ? {include: r.include.map((x) => new RegExp(x))} : {}),
      ...(r.topicSuffix !== undefined ? {topicSuffix: r.topicSuffix} : {}),
      ...(r.ifTargetNotEmpty ? {ifTargetNotEmpty: r.ifTargetNotEmpty} : {}),
    }),
  )
  return desired(policies, restores)
}

/** Runs one scenario; returns the output files' contents. */
export async function runScenario(s: Scenario): Promise<Record<(typeof OUTPUT_FILES)[number], string>> {
  setColorEnabled(false)
  const world = new World({...(s.start ? {start: new Date(s.start)} : {}), runtime: {segmentMaxRecords: s.runtime?.segmentMaxRecords ?? 40}})
  for (const [cluster, topics] of Object.entries(s.clusters)) for (const [topic, t] of Object.entries(topics)) world.cluster(cluster).addTopic(topic, t.partitions, t.configs ?? {})
  const names = new Normalizer()
  const transcript: string[] = [`# ${s.description}`, '']
  const markdown: string[] = []
  const seeded = new Map<string, number>()

  for (const [i, step] of s.steps.entries()) {
    const n = i + 1
    if ('seed' in step) {
      const {cluster = 'prod', topic, partition = 0, count, stepMs = 1000} = step.seed
      const k = `${cluster}/${topic}/${partition}`
      const from = seeded.get(k) ?? 0
      world.cluster(cluster).seed(topic, partition, records(count, world.clock.getTime(), stepMs, from))
      seeded.set(k, from + count)
      transcript.push(`## step ${n}: ${count} record(s) produced to ${cluster}/${topic}[${partition}]`, '')
    } else if ('advance' in step) {
      const a = step.advance
      world.advance((a.days ?? 0) * DAY + (a.hours ?? 0) * 3_600_000 + (a.ms ?? 0))
      transcript.push(`## step ${n}: the clock moves to ${world.clock.toISOString()}`, '')
    } else if ('retention' in step) {
      const {cluster = 'prod', topic, partition = 0, deleteBefore} = step.retention
      world.cluster(cluster).deleteBefore(topic, partition, deleteBefore)
      transcript.push(`## step ${n}: Kafka's retention deletes ${cluster}/${topic}[${partition}] below offset ${deleteBefore}`, '')
    } else {
      const faults = step.apply
      const ac = new AbortController()
      let batches = 0
      const perPartition = new Map<number, number>()
      let produces = 0
      for (const k of Object.values(world.kafka)) {
        k.beforeBatch = (_t, partition) => {
          batches++
          perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1)
          if (faults.interruptAtBatch !== undefined && batches === faults.interruptAtBatch) ac.abort('SIGINT')
          if (faults.failReadAfterBatches && partition === faults.failReadAfterBatches.partition && perPartition.get(partition)! > faults.failReadAfterBatches.batches) {
            throw new KbkError('KBK_KAFKA_UNREACHABLE', 'injected: the leader of the partition went away.', {kind: 'environment'})
          }
        }
        k.beforeProduce = () => {
          if (faults.failProduceAt !== undefined && ++produces === faults.failProduceAt) throw new KbkError('KBK_KAFKA_UNREACHABLE', 'injected: the connection was reset.', {kind: 'environment'})
        }
      }
      const d = desiredOf(s, n)
      const plan = await world.plan(d)
      const planText = names.text(formatPlanText(plan))
      markdown.push(`<!-- step ${n} -->`, '', names.text(formatPlanMarkdown(plan)))
      const faultNote = Object.keys(faults).length > 0 ? ` (faults: ${JSON.stringify(faults)})` : ''
      transcript.push(`## step ${n}: plan${faultNote}`, '', planText, '')
      if (!plan.applyable || plan.resource_changes.length === 0) {
        transcript.push(`(not applied: ${plan.applyable ? 'nothing to do' : 'the plan cannot be applied'})`, '')
      } else {
        const outcome = await world.apply(plan, d, {signal: ac.signal})
        transcript.push(`## step ${n}: events`, '', ...world.reporter.events.flatMap((e) => eventLine(e, names)), '')
        transcript.push(`## step ${n}: summary`, '', names.text(formatApplySummary(outcome)), '')
      }
      for (const k of Object.values(world.kafka)) {
        delete k.beforeBatch
        delete k.beforeProduce
      }
    }
  }

  const snapshot = await world.snapshot()
  const segments: Record<string, unknown[]> = {}
  for (const index of Object.values(snapshot.topics).sort((a, b) => a.policy.localeCompare(b.policy) || a.topic.localeCompare(b.topic))) {
    segments[`${index.policy}/${index.topic}`] = (await world.state.loadSegments(snapshot, index.policy, index.topic)).map((seg) => ({...seg}))
  }
  const store = [...world.store.objects.keys()].filter((k) => !k.startsWith('_kbk/')).sort()
  const state = names.json({snapshot, segments, store_data_objects: store})
  const kafka: Record<string, unknown> = {}
  for (const r of Object.values(s.restores ?? {})) {
    const k = world.cluster(r.cluster)
    for (const topic of [...k.topics.keys()].sort()) {
      kafka[`${r.cluster}/${topic}`] = k.records(topic).map((p) => p.map((rec) => [rec.offset, rec.timestamp, rec.key?.toString() ?? null, rec.value?.toString() ?? null, rec.headers.map((h) => [h.key, h.value?.toString() ?? null])]))
    }
  }
  return {
    'transcript.txt': `${transcript.join('\n').trimEnd()}\n`,
    'plan.md': `${markdown.join('\n').trimEnd()}\n`,
    'state.json': `${state}\n`,
    'kafka.json': `${JSON.stringify(kafka, null, 1)}\n`,
  }
}

export function readScenario(name: string): Scenario {
  return JSON.parse(readFileSync(join(scenarioDir(name), 'scenario.json'), 'utf8')) as Scenario
}

/** Events as stable lines: no durations, no progress ticks (time-driven), ids replaced. */
function eventLine(e: ApplyEvent, names: Normalizer): string[] {
  if (e.type === 'backup.progress' || e.type === 'restore.progress') return []
  const {type, ...rest} = e as ApplyEvent & Record<string, unknown>
  delete rest.duration_ms
  delete rest.elapsed_ms
  return [names.text(`${type} ${JSON.stringify(rest)}`)]
}

/** Replaces what differs from run to run (random ids) with stable placeholders, in order of appearance. */
class Normalizer {
  private readonly seen = new Map<string, string>()
  private readonly counts = new Map<string, number>()

  text(s: string): string {
    return s
      .replace(/\b\d{8}T\d{6}-[0-9a-f]{8}\b/g, (m) => this.name('run', m))
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, (m) => this.name('id', m))
  }

  /**
   * Also hides content hashes: every segment carries a random segment id, so its sha256 — and the
   * hashes and names of the state chunks that list it — differ from run to run.
   */
  json(v: unknown): string {
    return this.text(JSON.stringify(v, null, 1))
      .replace(/"sha256": "[0-9a-f]{64}"/g, '"sha256": "<sha256>"')
      .replace(/(_kbk\/state\/[^"]*\/[0-9]{12})-[0-9a-f]{12}\.json/g, '$1-<hash>.json')
  }

  private name(kind: string, raw: string): string {
    let n = this.seen.get(raw)
    if (!n) {
      const i = (this.counts.get(kind) ?? 0) + 1
      this.counts.set(kind, i)
      n = `<${kind}-${i}>`
      this.seen.set(raw, n)
    }
    return n
  }
}
