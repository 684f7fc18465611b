// `node --import ./test/helpers/trace-modules.mjs …` with KBK_TRACE_MODULES=FILE: appends to FILE
// the URL of every module the process imports (ESM, through a resolve hook) and, at exit, the
// path of every CommonJS module it loaded. For tests of what a command loads at start-up.
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'

const file = process.env.KBK_TRACE_MODULES
if (file) {
  const hook = `
import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(file)}, r.url + '\\n')
  return r
}`
  register(`data:text/javascript,${encodeURIComponent(hook)}`)
  const cache = createRequire(import.meta.url).cache
  process.on('exit', () => appendFileSync(file, Object.keys(cache).join('\n') + '\n'))
}
