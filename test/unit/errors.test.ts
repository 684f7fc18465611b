import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {ERRORS, KbkError, type ErrorCode} from '../../src/errors.js'
import {renderErrorsDoc} from '../../src/errors-doc.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
/** KBK_ names that are environment variables or key prefixes, not codes. */
const NOT_CODES = new Set(['KBK_CONFIG', 'KBK_STORE', 'KBK_IN_AUTOMATION', 'KBK_PACKAGE', 'KBK_MAIN_KEY', 'KBK_UPDATE_RAW_TYPES', 'KBK_PREFIX', 'KBK_NOW', 'KBK_VERSION', 'KBK_SEGMENT_KEY'])

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

describe('error codes', () => {
  it('every KBK_ code quoted anywhere in src/ is in the ERRORS table', () => {
    const missing: string[] = []
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`](KBK_[A-Z0-9_]+)['"`]/g)) {
        const code = m[1]!
        if (!(code in ERRORS) && !NOT_CODES.has(code)) missing.push(`${code} (${file.slice(root.length)})`)
      }
    }
    assert.deepEqual(missing, [])
  })

  it('kind and retriable default from the table, and a call site may override them', () => {
    const e = new KbkError('KBK_KAFKA_UNREACHABLE', 'x')
    assert.equal(e.kind, 'environment')
    assert.equal(e.retriable, true)
    assert.equal(new KbkError('KBK_KAFKA_UNREACHABLE', 'x', {retriable: false}).retriable, false)
    assert.equal(new KbkError('KBK_USAGE', 'x').kind, 'user')
  })

  it('docs/errors.md is generated from the table (run node scripts/gen-errors-doc.mjs after npm run build)', () => {
    assert.equal(readFileSync(join(root, 'docs/errors.md'), 'utf8'), renderErrorsDoc())
  })

  it('codes are upper snake case under KBK_', () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) assert.match(code, /^KBK_[A-Z0-9_]+$/)
  })
})
