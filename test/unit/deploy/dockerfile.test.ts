// No container builder works on the build machine (no Docker daemon, no buildah or podman), so
// the Dockerfile's essentials are checked by reading it: stages, base, non-root, production
// dependencies only, and a context that never carries secrets or local builds in.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

interface Instruction {
  op: string
  args: string
  line: number
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = []
  let pending: Instruction | undefined
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!pending && (line === '' || line.startsWith('#'))) return
    if (pending && line.startsWith('#')) return
    const body = line.endsWith('\\') ? line.slice(0, -1).trim() : line
    if (pending) pending.args += ' ' + body
    else {
      const m = /^(\w+)\s+(.*)$/.exec(body)
      assert.ok(m, `Dockerfile:${i + 1}: not an instruction: ${raw}`)
      pending = {op: m[1]!.toUpperCase(), args: m[2]!, line: i + 1}
    }
    if (!line.endsWith('\\')) {
      out.push(pending)
      pending = undefined
    }
  })
  return out
}

const dockerfile = parse(readFileSync(`${root}/Dockerfile`, 'utf8'))
const stages = dockerfile.reduce<Instruction[][]>((acc, ins) => {
  if (ins.op === 'FROM') acc.push([])
  acc.at(-1)?.push(ins)
  return acc
}, [])
const runtime = stages.at(-1)!

describe('Dockerfile', () => {
  it('is multi-stage, on a small Node base', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage')
    const base = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))!.args.split('=')[1]!
    assert.match(base, /^node:\d+-(bookworm-slim|alpine)/, 'the slim (or alpine) Node image')
    assert.match(runtime[0]!.args, /^\$\{NODE_IMAGE\} AS runtime$/)
  })

  it('installs production dependencies only, with npm ci', () => {
    const all = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n')
    assert.match(all, /npm ci --omit=dev/)
    // The runtime stage copies node_modules from the production-only stage, never the build's.
    const copies = runtime.filter((i) => i.op === 'COPY' && i.args.includes('node_modules'))
    assert.equal(copies.length, 1)
    const from = /--from=(\S+)/.exec(copies[0]!.args)![1]!
    const stage = stages.find((s) => s[0]!.args.endsWith(` AS ${from}`))!
    assert.ok(stage.some((i) => i.op === 'RUN' && i.args.includes('npm ci --omit=dev')), `stage ${from} runs npm ci --omit=dev`)
  })

  it('runs as a non-root user, by number, with an exec-form entrypoint', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)
    assert.ok(user, 'the runtime stage sets USER')
    const uid = user.args.split(':')[0]!
    assert.match(uid, /^\d+$/, 'numeric, so Kubernetes can verify runAsNonRoot')
    assert.notEqual(Number(uid), 0)
    const entry = runtime.find((i) => i.op === 'ENTRYPOINT')!
    assert.deepEqual(JSON.parse(entry.args), ['node', '/app/bin/run.js'])
  })

  it('bakes no secret and fetches nothing by URL', () => {
    for (const i of dockerfile) {
      assert.notEqual(i.op, 'ADD', `Dockerfile:${i.line}: use COPY`)
      if (i.op === 'ENV' || i.op === 'ARG') assert.doesNotMatch(i.args, /SECRET|PASSWORD|TOKEN|ACCESS_KEY/i, `Dockerfile:${i.line}`)
    }
  })

  it('.dockerignore keeps dependencies, builds, caches and env files out of the context', () => {
    const ignored = readFileSync(`${root}/.dockerignore`, 'utf8').split('\n').map((l) => l.trim())
    for (const p of ['node_modules', 'dist', '.cache', '.git', '.env', '.env.*']) assert.ok(ignored.includes(p), `${p} in .dockerignore`)
  })
})
