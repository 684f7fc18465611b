// Turns kafkajs failures into KbkErrors a person can act on. Pure: it only inspects the thrown
// value (kafkajs errors carry a name, a protocol `type` and a `cause` chain), so it is unit-tested.
import {KbkError} from '../errors.js'

export interface ErrorContext {
  /** The cluster's name in the workspace. */
  cluster: string
  /** Where the cluster is declared, e.g. "kbk.yaml:4:3", when known. */
  position?: string
  brokers: string[]
  /** What kbk was doing, e.g. `reading "orders" partitions 0-3`. */
  operation: string
  topic?: string
}

interface ErrorLike {
  name?: string
  message?: string
  type?: string
  code?: string | number
  cause?: unknown
  originalError?: unknown
  errors?: unknown[]
}

/** The error and everything it wraps, outermost first (kafkajs nests retries, aggregates, causes). */
export function causeChain(e: unknown): ErrorLike[] {
  const out: ErrorLike[] = []
  const seen = new Set<unknown>()
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x) || out.length > 20) return
    seen.add(x)
    const el = x as ErrorLike
    out.push(el)
    visit(el.cause)
    visit(el.originalError)
    if (Array.isArray(el.errors)) el.errors.forEach(visit)
  }
  visit(e)
  return out
}

const UNREACHABLE_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound'])
const AUTH_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM'])

/**
 * Broker errors that pass once leadership settles (a topic just created, a leader moving): kbk's
 * retry loops retry them, whatever kafkajs' own flag says after its retries ran out.
 */
const LEADER_TYPES = new Set(['NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'PREFERRED_LEADER_NOT_AVAILABLE'])

/** kafkajs errors (by class name) that mean the connection failed or timed out: worth another try. */
const TRANSIENT_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError', 'KafkaJSLockTimeoutError'])

/**
 * For kbk's own transports (kafkajs-fetch.ts, kafkajs-produce.ts), before mapping: whether a raw
 * kafkajs failure may pass on the next attempt. A KbkError is already decided and is not retried.
 */
export function isTransientKafkaError(e: unknown): boolean {
  if (e instanceof KbkError) return false
  const x = e as {name?: string; retriable?: boolean} | null | undefined
  return x?.retriable === true || (x?.name !== undefined && TRANSIENT_NAMES.has(x.name))
}

function where(ctx: ErrorContext): string {
  return ctx.position ? `cluster "${ctx.cluster}" (${ctx.position})` : `cluster "${ctx.cluster}"`
}

/** Maps a kafkajs error (or anything) to a KbkError; KbkErrors pass through unchanged. */
export function mapKafkaError(e: unknown, ctx: ErrorContext): KbkError {
  if (e instanceof KbkError) return e
  const chain = causeChain(e)
  const details = {cluster: ctx.cluster, ...(ctx.topic ? {topic: ctx.topic} : {}), operation: ctx.operation}
  const key = `clusters.${ctx.cluster}`

  const auth = chain.find((c) => c.name === 'KafkaJSSASLAuthenticationError' || (c.type !== undefined && AUTH_TYPES.has(c.type)))
  if (auth) {
    const authz = auth.type !== undefined && auth.type.endsWith('AUTHORIZATION_FAILED')
    return new KbkError('KBK_KAFKA_AUTH', authz
      ? `${where(ctx)} refused ${ctx.operation}: the principal is not authorized (${auth.type}).`
      : `${where(ctx)} rejected kbk's credentials while ${ctx.operation}.`, {
      suggestion: authz
        ? `Grant the principal ACLs for ${ctx.topic ? `topic "${ctx.topic}" (Describe, Read or Write)` : 'the resource'} and, for restores that set consumer offsets, the groups named (Read), or use another user in ${key}.sasl.`
        : `Check ${key}.sasl (mechanism, username, password) and the environment variables it interpolates.`,
      kind: 'environment',
      cause: e,
      details,
    })
  }

  if (chain.some((c) => c.type === 'UNKNOWN_TOPIC_OR_PARTITION' || c.type === 'UNKNOWN_TOPIC_ID' || c.name === 'KafkaJSTopicMetadataNotLoaded')) {
    return noTopic(ctx, e)
  }

  const unreachable = chain.find((c) => (c.name !== undefined && UNREACHABLE_NAMES.has(c.name)) || c.code === 'ECONNREFUSED' || c.code === 'ENOTFOUND' || c.code === 'ETIMEDOUT' || c.code === 'EHOSTUNREACH')
  if (unreachable) {
    return new KbkError('KBK_KAFKA_UNREACHABLE', `Cannot reach ${where(ctx)} at ${ctx.brokers.join(', ')} while ${ctx.operation}: ${unreachable.message ?? 'connection failed'}.`, {
      suggestion: `Check ${key}.brokers, ${key}.tls and that the brokers are reachable from here (firewall, VPN, DNS).`,
      kind: 'environment',
      retriable: true,
      cause: e,
      details,
    })
  }

  const first = chain[0]
  const retriable = chain.some((c) => (c as {retriable?: boolean}).retriable === true || (c.type !== undefined && LEADER_TYPES.has(c.type)))
  return new KbkError('KBK_KAFKA_ERROR', `${where(ctx)} failed while ${ctx.operation}: ${first?.message ?? String(e)}${first?.type ? ` (${first.type})` : ''}.`, {
    suggestion: retriable ? 'Retry: the broker reported a transient error.' : 'Check the broker logs for this error.',
    kind: 'environment',
    retriable,
    cause: e,
    details,
  })
}

export function noTopic(ctx: ErrorContext, cause?: unknown): KbkError {
  return new KbkError('KBK_KAFKA_NO_TOPIC', `Topic "${ctx.topic ?? '?'}" does not exist on ${where(ctx)} (while ${ctx.operation}).`, {
    suggestion: 'Run `kbk plan` again: it refreshes the topic list and reports deleted topics as drift.',
    kind: 'environment',
    ...(cause === undefined ? {} : {cause}),
    details: {cluster: ctx.cluster, topic: ctx.topic, operation: ctx.operation},
  })
}
