// Rule: every topic and consumer-group pattern is a regex that compiles.
import {formatPath, type ConfigPath, type Diagnostic} from '../diagnostics.js'
import {diagnosticAt, type Rule} from './rule.js'

function compileError(source: string): string | undefined {
  try {
    new RegExp(`^(?:${source})$`)
    return undefined
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '').replace(/^\/.*\/[a-z]*: /, '')
  }
}

function looksLikeGlob(source: string): boolean {
  return /^\*|[^.\]\\)]\*/.test(source)
}

export const regexesCompile: Rule = {
  name: 'regexes-compile',
  description: 'Every include/exclude pattern compiles as a regular expression.',
  check({ws}) {
    const out: Diagnostic[] = []
    const lists: Array<[ConfigPath, string[]]> = []
    for (const p of Object.values(ws.policies)) {
      for (const sel of ['topics', 'consumerGroups'] as const) {
        lists.push([['policies', p.name, sel, 'include'], p[sel].include.map((x) => x.source)])
        lists.push([['policies', p.name, sel, 'exclude'], p[sel].exclude.map((x) => x.source)])
      }
    }
    for (const r of Object.values(ws.restores)) {
      lists.push([['restores', r.name, 'topics', 'include'], r.topics.include.map((x) => x.source)])
      lists.push([['restores', r.name, 'topics', 'exclude'], r.topics.exclude.map((x) => x.source)])
    }
    for (const [path, sources] of lists) {
      sources.forEach((source, i) => {
        const err = compileError(source)
        if (!err) return
        const glob = looksLikeGlob(source)
        out.push(
          diagnosticAt(
            ws,
            [...path, i],
            'error',
            'KBK_CONFIG_BAD_REGEX',
            `${formatPath([...path, i])}: ${JSON.stringify(source)} is not a valid regular expression (${err})`,
            glob ? `Patterns are regexes, not globs: write ".*" where you meant "*" (e.g. ${JSON.stringify(source.replace(/(^|[^.])\*/g, '$1.*'))}).` : 'Fix the regex (escape literal dots and brackets with \\\\), or quote it in single quotes in YAML.',
          ),
        )
      })
    }
    return out
  },
}
