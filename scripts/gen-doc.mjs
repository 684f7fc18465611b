// Writes a doc generated from a table in src (through the build's dist/), or with --check fails
// while the committed file is stale. Used by gen-errors-doc.mjs and gen-metrics-doc.mjs.
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = new URL('..', import.meta.url)

/** `module` under dist/ exports `render`; its output belongs in `doc`; `script` regenerates it. */
export async function generateDoc({module, render, doc, script}) {
  const text = (await import(new URL(`dist/${module}`, root).href))[render]()
  const file = fileURLToPath(new URL(doc, root))
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // not written yet
  }
  if (current === text) return
  if (process.argv.includes('--check')) {
    process.stderr.write(`${doc} is stale: run node ${script}\n`)
    process.exit(1)
  }
  writeFileSync(file, text)
}
