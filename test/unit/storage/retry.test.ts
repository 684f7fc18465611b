import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {KbkError} from '../../../src/errors.js'
import {backoffDelay, httpStatusOf, isRetriable, networkErrorCode, withRetry} from '../../../src/storage/retry.js'

function netError(code: string, message = code): Error {
  return Object.assign(new Error(message), {code})
}

describe('isRetriable', () => {
  const yes: Array<[string, unknown]> = [
    ['KbkError retriable', new KbkError('KBK_STORE_IO', 'x', {retriable: true})],
    ['S3 503 SlowDown', Object.assign(new Error('slow'), {name: 'SlowDown', $metadata: {httpStatusCode: 503}})],
    ['throttling name without status', Object.assign(new Error('t'), {name: 'ThrottlingException'})],
    ['HTTP 500 (Azure statusCode)', Object.assign(new Error('boom'), {statusCode: 500})],
    ['HTTP 429 (GCS code)', Object.assign(new Error('rate'), {code: 429})],
    ['HTTP 503 (gaxios status)', Object.assign(new Error('x'), {status: 503})],
    ['ECONNRESET', netError('ECONNRESET')],
    ['ETIMEDOUT', netError('ETIMEDOUT')],
    ['EPIPE', netError('EPIPE')],
    ['socket hang up', new Error('socket hang up')],
    ['reset inside an AggregateError', new AggregateError([netError('ECONNRESET')], 'all failed')],
    ['reset as a cause', new Error('fetch failed', {cause: netError('ECONNRESET')})],
  ]
  const no: Array<[string, unknown]> = [
    ['KbkError not retriable (default)', new KbkError('KBK_STORE_PRECONDITION', 'x')],
    ['412 precondition', Object.assign(new Error('pf'), {name: 'PreconditionFailed', $metadata: {httpStatusCode: 412}})],
    ['409 conflict', Object.assign(new Error('c'), {statusCode: 409})],
    ['403 access denied', Object.assign(new Error('ad'), {name: 'AccessDenied', $metadata: {httpStatusCode: 403}})],
    ['InvalidAccessKeyId', Object.assign(new Error('k'), {name: 'InvalidAccessKeyId', $metadata: {httpStatusCode: 403}})],
    ['404', Object.assign(new Error('nf'), {code: 404})],
    ['501 not implemented', Object.assign(new Error('ni'), {statusCode: 501})],
    ['TypeError', new TypeError('x is not a function')],
    ['TypeError with a status-like field', Object.assign(new TypeError('bug'), {statusCode: 503})],
    ['ECONNREFUSED (wrong endpoint)', netError('ECONNREFUSED')],
    ['ENOTFOUND (wrong host)', netError('ENOTFOUND')],
    ['AbortError', Object.assign(new Error('aborted'), {name: 'AbortError'})],
    ['a string', 'boom'],
    ['undefined', undefined],
  ]
  for (const [name, e] of yes) it(`retries ${name}`, () => assert.equal(isRetriable(e), true))
  for (const [name, e] of no) it(`does not retry ${name}`, () => assert.equal(isRetriable(e), false))
})

describe('error field readers', () => {
  it('reads the HTTP status from each SDK shape', () => {
    assert.equal(httpStatusOf({$metadata: {httpStatusCode: 404}}), 404)
    assert.equal(httpStatusOf({statusCode: 412}), 412)
    assert.equal(httpStatusOf({code: 412}), 412)
    assert.equal(httpStatusOf({code: '412'}), 412)
    assert.equal(httpStatusOf({response: {status: 502}}), 502)
    assert.equal(httpStatusOf({code: 'ECONNRESET'}), undefined)
  })
  it('finds a network code through causes and aggregates', () => {
    assert.equal(networkErrorCode(new Error('x', {cause: new AggregateError([new Error('a'), netError('ECONNREFUSED')])})), 'ECONNREFUSED')
    assert.equal(networkErrorCode(new Error('plain')), undefined)
  })
})

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt, capped at maxMs, with full jitter', () => {
    const top = () => 0.999999
    assert.equal(backoffDelay(1, 100, 5000, top), 99)
    assert.equal(backoffDelay(2, 100, 5000, top), 199)
    assert.equal(backoffDelay(3, 100, 5000, top), 399)
    assert.equal(backoffDelay(10, 100, 5000, top), 4999)
    assert.equal(backoffDelay(4, 100, 5000, () => 0), 0)
    assert.equal(backoffDelay(2, 100, 5000, () => 0.5), 100)
  })
})

describe('withRetry', () => {
  const transient = () => Object.assign(new Error('busy'), {statusCode: 503})

  it('retries retriable failures with the computed waits, then succeeds', async () => {
    const waits: number[] = []
    let calls = 0
    const out = await withRetry(
      async (attempt) => {
        calls++
        assert.equal(attempt, calls)
        if (calls < 3) throw transient()
        return 'ok'
      },
      {attempts: 5, baseMs: 100, maxMs: 1000, random: () => 0.5, sleep: async (ms) => void waits.push(ms)},
    )
    assert.equal(out, 'ok')
    assert.equal(calls, 3)
    assert.deepEqual(waits, [50, 100])
  })

  it('gives up after `attempts` and throws the last error', async () => {
    let calls = 0
    const waits: number[] = []
    await assert.rejects(
      withRetry(
        async () => {
          calls++
          throw Object.assign(transient(), {message: `busy ${calls}`})
        },
        {attempts: 4, sleep: async (ms) => void waits.push(ms), random: () => 0},
      ),
      /busy 4/,
    )
    assert.equal(calls, 4)
    assert.equal(waits.length, 3)
  })

  it('never retries a failed condition, bad credentials or a bug', async () => {
    for (const e of [
      new KbkError('KBK_STORE_PRECONDITION', 'lost the race', {kind: 'conflict'}),
      new KbkError('KBK_STORE_ACCESS_DENIED', 'denied'),
      new TypeError('bug'),
    ]) {
      let calls = 0
      await assert.rejects(
        withRetry(
          async () => {
            calls++
            throw e
          },
          {attempts: 5, sleep: async () => assert.fail('must not wait')},
        ),
        (got) => got === e,
      )
      assert.equal(calls, 1)
    }
  })

  it('stops when the signal aborts during a wait', async () => {
    const ac = new AbortController()
    let calls = 0
    await assert.rejects(
      withRetry(
        async () => {
          calls++
          throw transient()
        },
        {
          attempts: 10,
          signal: ac.signal,
          sleep: async () => {
            ac.abort(new Error('cancelled'))
            throw ac.signal.reason
          },
        },
      ),
      /cancelled/,
    )
    assert.equal(calls, 1)
  })

  it('reports each retry to onRetry', async () => {
    const seen: Array<[number, number]> = []
    let calls = 0
    await withRetry(
      async () => {
        if (++calls < 3) throw transient()
      },
      {random: () => 0, sleep: async () => {}, onRetry: (_e, attempt, delay) => seen.push([attempt, delay])},
    )
    assert.deepEqual(seen, [
      [1, 0],
      [2, 0],
    ])
  })
})
