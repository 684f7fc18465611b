// Rule: offset reset intents are complete and name what exists (cluster, store, restore), their
// patterns compile, and their point in time is a real instant.
import {closest, formatPath, type ConfigPath, type Diagnostic} from '../diagnostics.js'
import {OFFSET_RESET_NEEDS, offsetResetStore} from '../offset-resets.js'
import {isRealTimestamp} from './durations.js'
import {diagnosticAt, type Rule} from './rule.js'

function undefinedRef(kind: string, section: string, name: string, known: string[]): {message: string; suggestion: string} {
  const guess = closest(name, known)
  return {
    message: `${kind} "${name}" is not defined`,
    suggestion: guess ? `Did you mean "${guess}"?` : known.length > 0 ? `Use one of: ${known.join(', ')} — or define "${name}" under ${section}:.` : `Define "${name}" under ${section}:.`,
  }
}

function compileError(source: string): string | undefined {
  try {
    new RegExp(`^(?:${source})$`)
    return undefined
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '').replace(/^\/.*\/[a-z]*: /, '')
  }
}

export const offsetResetsValid: Rule = {
  name: 'offset-resets-valid',
  description: 'Offset resets name a defined cluster, store and restore, give what their `to` needs, and their patterns compile.',
  check({ws}) {
    const out: Diagnostic[] = []
    for (const o of Object.values(ws.offsetResets ?? {})) {
      const at = (path: ConfigPath): ConfigPath => ['offsetResets', o.name, ...path]
      const label = (path: ConfigPath): string => formatPath(at(path))
      if (o.cluster !== '' && !ws.clusters[o.cluster]) {
        const m = undefinedRef('cluster', 'clusters', o.cluster, Object.keys(ws.clusters))
        out.push(diagnosticAt(ws, at(['cluster']), 'error', 'KBK_CONFIG_UNDEFINED_REF', `${label(['cluster'])}: ${m.message}`, m.suggestion))
      }
      if (o.store !== undefined && !ws.stores[o.store]) {
        const m = undefinedRef('store', 'stores', o.store, Object.keys(ws.stores))
        out.push(diagnosticAt(ws, at(['store']), 'error', 'KBK_CONFIG_UNDEFINED_REF', `${label(['store'])}: ${m.message}`, m.suggestion))
      } else if (o.store === undefined && offsetResetStore(ws, o) === undefined) {
        out.push(diagnosticAt(ws, at([]), 'error', 'KBK_CONFIG_REQUIRED', `offsetResets.${o.name}: which store keeps its snapshots is ambiguous (the workspace has ${Object.keys(ws.stores).length} stores)`, `Set offsetResets.${o.name}.store to one of: ${Object.keys(ws.stores).join(', ')}.`))
      }
      const needs = OFFSET_RESET_NEEDS[o.to]
      if (needs && o[needs] === undefined) {
        const example = needs === 'timestamp' ? '"2026-03-22T14:30:00Z"' : needs === 'snapshot' ? 'an id from `kbk offsets snapshots`' : 'the name of a restore under restores'
        out.push(diagnosticAt(ws, at(['to']), 'error', 'KBK_CONFIG_INCOMPLETE', `${label(['to'])}: "${o.to}" needs offsetResets.${o.name}.${needs}`, `Add ${needs}: ${example} beside to: ${o.to}.`))
      }
      for (const other of ['restore', 'timestamp', 'snapshot'] as const) {
        if (other !== needs && o[other] !== undefined) {
          out.push(diagnosticAt(ws, at([other]), 'warning', 'KBK_CONFIG_CONFLICT', `${label([other])} is ignored with to: ${o.to}`, `Remove ${other}, or set to: ${Object.entries(OFFSET_RESET_NEEDS).find(([, v]) => v === other)![0]}.`))
        }
      }
      if (o.to === 'restored' && o.restore !== undefined) {
        const r = ws.restores[o.restore]
        if (!r) {
          const m = undefinedRef('restore', 'restores', o.restore, Object.keys(ws.restores))
          out.push(diagnosticAt(ws, at(['restore']), 'error', 'KBK_CONFIG_UNDEFINED_REF', `${label(['restore'])}: ${m.message}`, m.suggestion))
        } else if (r.to.cluster !== '' && o.cluster !== '' && r.to.cluster !== o.cluster) {
          out.push(diagnosticAt(ws, at(['cluster']), 'error', 'KBK_CONFIG_CONFLICT', `${label(['cluster'])}: restore "${r.name}" restores into cluster "${r.to.cluster}", so its translated positions are for groups there, not on "${o.cluster}"`, `Set offsetResets.${o.name}.cluster: ${r.to.cluster}.`))
        }
      }
      if (o.timestamp !== undefined && !isRealTimestamp(o.timestamp)) {
        out.push(diagnosticAt(ws, at(['timestamp']), 'error', 'KBK_CONFIG_BAD_TIMESTAMP', `${label(['timestamp'])}: ${JSON.stringify(o.timestamp)} is not a real date and time`, 'Write an existing ISO 8601 instant with a zone, e.g. 2026-03-22T14:30:00Z.'))
      }
      if (o.waitTimeout !== undefined && o.ifActive !== 'wait') {
        out.push(diagnosticAt(ws, at(['waitTimeout']), 'warning', 'KBK_CONFIG_CONFLICT', `${label(['waitTimeout'])} is ignored unless ifActive: wait`, 'Remove waitTimeout, or set ifActive: wait.'))
      }
      for (const list of ['groups', 'topics'] as const) {
        o[list].forEach((p, i) => {
          const err = compileError(p.source)
          if (!err) return
          out.push(diagnosticAt(ws, at([list, i]), 'error', 'KBK_CONFIG_BAD_REGEX', `${label([list, i])}: ${JSON.stringify(p.source)} is not a valid regular expression (${err})`, 'Patterns are regexes matched against the whole name: write ".*" where you meant "*", escape literal dots with \\\\.'))
        })
      }
    }
    return out
  },
}
