// Rule: every name a policy or restore uses is defined (cluster, store, retention tier, tag, policy).
import {closest} from '../diagnostics.js'
import {builtinTags} from '../compliance.js'
import {diagnosticAt, type Rule} from './rule.js'

function missing(kind: string, section: string, name: string, known: string[]): {message: string; suggestion: string} {
  const guess = closest(name, known)
  const suggestion = guess
    ? `Did you mean "${guess}"?`
    : known.length > 0
      ? `Use one of: ${known.join(', ')} — or define "${name}" under ${section}:.`
      : `Define "${name}" under ${section}:.`
  return {message: `${kind} "${name}" is not defined`, suggestion}
}

export const referencesResolve: Rule = {
  name: 'references-resolve',
  description: 'Policies name a defined cluster, store, retention tier and tags; restores name a defined policy and cluster.',
  check({ws}) {
    const out = []
    const clusters = Object.keys(ws.clusters)
    const stores = Object.keys(ws.stores)
    const tiers = Object.keys(ws.retention)
    const tags = [...Object.keys(builtinTags), ...Object.keys(ws.compliance)]
    for (const p of Object.values(ws.policies)) {
      const refs: Array<[string, string, string, string[]]> = [
        ['cluster', 'cluster', 'clusters', clusters],
        ['store', 'store', 'stores', stores],
        ['retention', 'retention tier', 'retention', tiers],
      ]
      for (const [key, kind, section, known] of refs) {
        const name = p[key as 'cluster' | 'store' | 'retention']
        if (name === '' || known.includes(name)) continue
        const m = missing(kind, section, name, known)
        out.push(diagnosticAt(ws, ['policies', p.name, key], 'error', 'KBK_CONFIG_UNDEFINED_REF', `policies.${p.name}.${key}: ${m.message}`, m.suggestion))
      }
      if (p.schemaRegistry !== undefined && !ws.schemaRegistries[p.schemaRegistry]) {
        const m = missing('schema registry', 'schemaRegistries', p.schemaRegistry, Object.keys(ws.schemaRegistries))
        out.push(diagnosticAt(ws, ['policies', p.name, 'schemaRegistry'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `policies.${p.name}.schemaRegistry: ${m.message}`, m.suggestion))
      }
      p.tags.forEach((tag, i) => {
        if (tags.includes(tag)) return
        const m = missing('compliance tag', 'compliance', tag, tags)
        out.push(diagnosticAt(ws, ['policies', p.name, 'tags', i], 'error', 'KBK_CONFIG_UNDEFINED_REF', `policies.${p.name}.tags: ${m.message} (built-in tags: ${Object.keys(builtinTags).join(', ')})`, m.suggestion))
      })
    }
    for (const r of Object.values(ws.restores)) {
      if (r.from.policy !== '' && !ws.policies[r.from.policy]) {
        const m = missing('policy', 'policies', r.from.policy, Object.keys(ws.policies))
        out.push(diagnosticAt(ws, ['restores', r.name, 'from', 'policy'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `restores.${r.name}.from.policy: ${m.message}`, m.suggestion))
      }
      if (r.to.cluster !== '' && !ws.clusters[r.to.cluster]) {
        const m = missing('cluster', 'clusters', r.to.cluster, clusters)
        out.push(diagnosticAt(ws, ['restores', r.name, 'to', 'cluster'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `restores.${r.name}.to.cluster: ${m.message}`, m.suggestion))
      }
    }
    for (const r of Object.values(ws.restores)) {
      const target = r.to.schemaRegistry
      if (target !== undefined && !ws.schemaRegistries[target]) {
        const m = missing('schema registry', 'schemaRegistries', target, Object.keys(ws.schemaRegistries))
        out.push(diagnosticAt(ws, ['restores', r.name, 'to', 'schemaRegistry'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `restores.${r.name}.to.schemaRegistry: ${m.message}`, m.suggestion))
      } else if (target !== undefined && r.from.policy !== '' && ws.policies[r.from.policy] && ws.policies[r.from.policy]!.schemaRegistry === undefined) {
        out.push(diagnosticAt(ws, ['restores', r.name, 'to', 'schemaRegistry'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `restores.${r.name}.to.schemaRegistry: policy "${r.from.policy}" backs up no schema registry, so there is no snapshot to register`, `Set policies.${r.from.policy}.schemaRegistry, or remove to.schemaRegistry.`))
      }
    }
    for (const name of Object.keys(ws.compliance)) {
      if (name in builtinTags) {
        out.push(diagnosticAt(ws, ['compliance', name], 'error', 'KBK_CONFIG_DUPLICATE', `compliance.${name}: "${name}" is a built-in tag and cannot be redefined`, `Give the workspace tag another name (e.g. ${name}-strict) and tag policies with both.`))
      }
    }
    return out
  },
}
