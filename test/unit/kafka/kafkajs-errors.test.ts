import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {isTransientKafkaError, mapKafkaError} from '../../../src/kafka/kafkajs-errors.js'
import {KbkError} from '../../../src/errors.js'

const ctx = {cluster: 'prod', position: 'kbk.yaml:4:3', brokers: ['b1:9092'], operation: 'listing topics', topic: 'orders'}
const err = (props: Record<string, unknown>, cause?: unknown): Error => Object.assign(new Error(String(props.message ?? 'x')), props, cause === undefined ? {} : {cause})

describe('mapKafkaError', () => {
  it('connection failures wrapped in retries are KBK_KAFKA_UNREACHABLE, naming cluster, position and brokers', () => {
    const e = mapKafkaError(err({name: 'KafkaJSNumberOfRetriesExceeded', message: 'connect ECONNREFUSED'}, err({name: 'KafkaJSConnectionError', code: 'ECONNREFUSED'})), ctx)
    assert.equal(e.code, 'KBK_KAFKA_UNREACHABLE')
    assert.match(e.message, /"prod" \(kbk\.yaml:4:3\).*b1:9092/)
    assert.match(e.suggestion ?? '', /clusters\.prod\.brokers/)
    assert.equal(e.retriable, true)
  })
  it('SASL failures are KBK_KAFKA_AUTH pointing at the sasl keys', () => {
    const e = mapKafkaError(err({name: 'KafkaJSSASLAuthenticationError', message: 'SASL SCRAM SHA512 authentication failed'}), ctx)
    assert.equal(e.code, 'KBK_KAFKA_AUTH')
    assert.match(e.suggestion ?? '', /clusters\.prod\.sasl/)
  })
  it('authorization failures are KBK_KAFKA_AUTH asking for ACLs', () => {
    const e = mapKafkaError(err({name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED'}), ctx)
    assert.equal(e.code, 'KBK_KAFKA_AUTH')
    assert.match(e.suggestion ?? '', /ACL/)
  })
  it('unknown topics, however deep, are KBK_KAFKA_NO_TOPIC', () => {
    const e = mapKafkaError(err({name: 'KafkaJSNumberOfRetriesExceeded'}, err({name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION'})), ctx)
    assert.equal(e.code, 'KBK_KAFKA_NO_TOPIC')
    assert.match(e.message, /"orders"/)
  })
  it('anything else is an environment error that keeps the cause; KbkErrors pass through', () => {
    const cause = err({name: 'KafkaJSProtocolError', type: 'POLICY_VIOLATION', message: 'nope'})
    const e = mapKafkaError(cause, ctx)
    assert.equal(e.code, 'KBK_KAFKA_ERROR')
    assert.equal(e.cause, cause)
    const mine = new KbkError('KBK_INTERNAL', 'x')
    assert.equal(mapKafkaError(mine, ctx), mine)
  })

  it('leader changes are retriable by their broker error type, even after kafkajs gave up retrying', () => {
    for (const type of ['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE']) {
      const e = mapKafkaError(err({name: 'KafkaJSNumberOfRetriesExceeded', message: 'gave up', retriable: false}, err({name: 'KafkaJSProtocolError', type, retriable: false})), ctx)
      assert.equal(e.code, 'KBK_KAFKA_ERROR')
      assert.equal(e.retriable, true, type)
    }
    assert.equal(mapKafkaError(err({name: 'KafkaJSProtocolError', type: 'INVALID_REQUEST', message: 'NOT_LEADER in the text only'}), ctx).retriable, false)
  })

  it('isTransientKafkaError: connection failures and errors kafkajs calls retriable, never a KbkError', () => {
    assert.equal(isTransientKafkaError(err({name: 'KafkaJSConnectionError'})), true)
    assert.equal(isTransientKafkaError(err({name: 'KafkaJSProtocolError', retriable: true})), true)
    assert.equal(isTransientKafkaError(err({name: 'KafkaJSProtocolError', retriable: false})), false)
    assert.equal(isTransientKafkaError(new KbkError('KBK_KAFKA_UNREACHABLE', 'x')), false)
    assert.equal(isTransientKafkaError(undefined), false)
  })
})
