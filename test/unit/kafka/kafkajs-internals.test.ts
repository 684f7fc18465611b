// kbk reaches into kafkajs where its public API stops (kafkajs-fetch.ts, kafkajs-produce.ts): a
// private symbol for the cluster factory, and `kafkajs/src/...` requires for the Fetch v11 request
// encoder, the protocol error table and the request framing that carries kbk's own Produce bodies.
// None of that is kafkajs' contract, so package.json pins kafkajs exactly, and this test fails
// loudly, naming what moved, if an upgrade (or a loose install) changes any of it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import kafkajs from 'kafkajs'
import {createReadCluster} from '../../../src/kafka/kafkajs-fetch.js'
import {parseFetchRequest} from '../../helpers/kafka-wire.js'

const require = createRequire(import.meta.url)
const root = new URL('../../../', import.meta.url)
const PINNED = '2.2.4'

describe('kafkajs internals kbk relies on', () => {
  it(`kafkajs is pinned to exactly ${PINNED}, and that is what is installed`, () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {dependencies: Record<string, string>}
    assert.equal(pkg.dependencies.kafkajs, PINNED, 'package.json must pin kafkajs exactly (no ^ or ~): kbk uses its internals')
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {packages: Record<string, {version?: string; dependencies?: Record<string, string>}>}
    assert.equal(lock.packages['']?.dependencies?.kafkajs, PINNED, 'package-lock.json disagrees with package.json')
    assert.equal(lock.packages['node_modules/kafkajs']?.version, PINNED, 'package-lock.json locks another kafkajs')
    const installed = (require('kafkajs/package.json') as {version: string}).version
    assert.equal(installed, PINNED, `kafkajs ${installed} is installed; kbk is built against ${PINNED} internals (run npm ci)`)
  })

  it('the private cluster factory exists and builds a cluster with every method kbk calls', () => {
    const kafka = new kafkajs.Kafka({brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING})
    assert.ok(Object.getOwnPropertySymbols(kafka).some((s) => s.description === 'private:Kafka:createCluster'), 'Symbol(private:Kafka:createCluster) is gone')
    const cluster = createReadCluster(kafka) as unknown as Record<string, unknown> & {isolationLevel?: number}
    for (const m of ['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findTopicPartitionMetadata', 'findBroker', 'findControllerBroker']) {
      assert.equal(typeof cluster[m], 'function', `kafkajs' Cluster has no ${m}()`)
    }
    assert.equal(cluster.isolationLevel, 1, 'the factory no longer passes isolationLevel through (read_committed)')
  })

  it('Broker has initProducerId and a connectionPool whose send() kbk calls with its own request objects', () => {
    const Broker = require('kafkajs/src/broker/index.js') as {prototype: Record<string, unknown>}
    assert.equal(typeof Broker.prototype.initProducerId, 'function', 'Broker.initProducerId is gone')
    const source = readFileSync(require.resolve('kafkajs/src/broker/index.js'), 'utf8')
    assert.match(source, /this\.connectionPool = connectionPool/, 'Broker no longer keeps its connectionPool property')
    const Pool = require('kafkajs/src/network/connectionPool.js') as {prototype: Record<string, unknown>}
    assert.equal(typeof Pool.prototype.send, 'function', 'ConnectionPool.send is gone')
  })

  it('the request framing carries a body given as {buf, buffer} unchanged (how kbk sends its Produce requests)', async () => {
    const frame = require('kafkajs/src/protocol/request.js') as (a: {correlationId: number; clientId: string; request: {apiKey: number; apiVersion: number; encode(): Promise<unknown>}}) => Promise<{buffer: Buffer}>
    const body = Buffer.from('kbk produce body')
    const framed = (await frame({correlationId: 7, clientId: 'c', request: {apiKey: 0, apiVersion: 8, encode: async () => ({buf: body, buffer: body})}})).buffer
    // size, api key, version, correlation id, client id, then the body byte for byte.
    assert.equal(framed.readInt32BE(0), framed.length - 4)
    assert.equal(framed.readInt16BE(4), 0)
    assert.equal(framed.readInt16BE(6), 8)
    assert.equal(framed.readInt32BE(8), 7)
    assert.deepEqual(framed.subarray(framed.length - body.length), body)
  })

  it('the Fetch v11 request encoder writes read_committed requests for exact offsets', async () => {
    const encode = require('kafkajs/src/protocol/requests/fetch/v11/request.js') as (a: object) => {apiKey: number; apiVersion: number; encode(): Promise<{buffer: Buffer}>}
    const request = encode({replicaId: -1, isolationLevel: 1, maxWaitTime: 10, minBytes: 1, maxBytes: 4096, topics: [{topic: 'orders', partitions: [{partition: 3, fetchOffset: '9007199254740000', maxBytes: 1024}]}], rackId: ''})
    assert.equal(request.apiKey, 1)
    assert.equal(request.apiVersion, 11)
    const bytes = (await request.encode()).buffer
    assert.equal(bytes.readInt8(16), 1, 'isolation level byte')
    assert.deepEqual(parseFetchRequest(bytes), {topic: 'orders', partitions: [{partition: 3, fetchOffset: 9007199254740000, maxBytes: 1024}]})
  })

  it('the protocol error table still maps the codes kbk acts on', () => {
    const {createErrorFromCode} = require('kafkajs/src/protocol/error.js') as {createErrorFromCode(code: number): {type: string; retriable: boolean}}
    const expect: [number, string][] = [[1, 'OFFSET_OUT_OF_RANGE'], [6, 'NOT_LEADER_FOR_PARTITION'], [10, 'MESSAGE_TOO_LARGE'], [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER'], [46, 'DUPLICATE_SEQUENCE_NUMBER'], [47, 'INVALID_PRODUCER_EPOCH'], [74, 'FENCED_LEADER_EPOCH']]
    for (const [code, type] of expect) assert.equal(createErrorFromCode(code).type, type, `error code ${code}`)
  })

  it('the protocol error table still names the leader-change types kafkajs-errors.ts retries, and the ones it maps to a missing topic', () => {
    const {createErrorFromCode} = require('kafkajs/src/protocol/error.js') as {createErrorFromCode(code: number): {type: string}}
    const expect: [number, string][] = [[3, 'UNKNOWN_TOPIC_OR_PARTITION'], [5, 'LEADER_NOT_AVAILABLE'], [6, 'NOT_LEADER_FOR_PARTITION'], [80, 'PREFERRED_LEADER_NOT_AVAILABLE']]
    for (const [code, type] of expect) assert.equal(createErrorFromCode(code).type, type, `error code ${code}`)
  })

  it("admin.setOffsets refuses a group with members with a bare KafkaJSNonRetriableError (kafkajs-adapter.ts then asks the broker the group's state)", () => {
    const admin = readFileSync(require.resolve('kafkajs/src/admin/index.js'), 'utf8')
    const body = admin.slice(admin.indexOf('const setOffsets = async'), admin.indexOf('const isBrokerConfig'))
    assert.match(body, /if \(!isConsumerGroupRunning\(description\)\) \{\s*throw new KafkaJSNonRetriableError\(/, 'setOffsets no longer throws KafkaJSNonRetriableError for a running group')
    const {KafkaJSNonRetriableError} = require('kafkajs/src/errors.js') as {KafkaJSNonRetriableError: new (m: string) => Error}
    assert.equal(new KafkaJSNonRetriableError('x').name, 'KafkaJSNonRetriableError')
  })
})
