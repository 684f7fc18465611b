// Rule: a policy's replicas are copies in OTHER stores, each a store of its own (a replica store's
// state is the copy's own, so it cannot also be the primary store of a policy), each listed once,
// with a defined retention tier; a copy kept shorter than the primary only when no compliance tag
// of the policy sets a retention requirement. The compliance checks themselves run on every copy
// (compliance.ts); a restore's `from.store` names the policy's store or one of its replicas.
import {allTags} from '../compliance.js'
import {closest} from '../diagnostics.js'
import {durationAtLeast} from '../duration.js'
import type {Diagnostic} from '../diagnostics.js'
import {diagnosticAt, type Rule} from './rule.js'
import {pushTo} from '../../collections.js'

export const replicasValid: Rule = {
  name: 'replicas-valid',
  description: 'Replicas name defined stores other than any policy\'s own store, once each, with a defined retention tier; restores read from the policy\'s store or one of its replicas.',
  check({ws}) {
    const out: Diagnostic[] = []
    const stores = Object.keys(ws.stores)
    const tiers = Object.keys(ws.retention)
    const primaries = new Map<string, string[]>()
    for (const p of Object.values(ws.policies)) pushTo(primaries, p.store, p.name)
    const tags = allTags(ws)
    for (const p of Object.values(ws.policies)) {
      const seen = new Set<string>()
      p.replicas.forEach((r, i) => {
        const at = (key: string): Array<string | number> => ['policies', p.name, 'replicas', i, key]
        const where = `policies.${p.name}.replicas[${i}]`
        if (r.store === '') return // the schema reports the missing key
        if (!ws.stores[r.store]) {
          const guess = closest(r.store, stores)
          out.push(diagnosticAt(ws, at('store'), 'error', 'KBK_CONFIG_UNDEFINED_REF', `${where}.store: store "${r.store}" is not defined`, guess ? `Did you mean "${guess}"?` : `Define "${r.store}" under stores: (e.g. an azure or gcs store in another cloud).`))
          return
        }
        if (r.store === p.store) {
          out.push(diagnosticAt(ws, at('store'), 'error', 'KBK_CONFIG_REPLICA', `${where}.store: "${r.store}" is the policy's own store; a replica is a copy somewhere else`, `Name another store (in another cloud or region) under replicas, or remove this entry.`))
          return
        }
        if (seen.has(r.store)) {
          out.push(diagnosticAt(ws, at('store'), 'error', 'KBK_CONFIG_REPLICA', `${where}.store: "${r.store}" is listed twice among the replicas of policy "${p.name}"`, 'Keep one entry per replica store.'))
          return
        }
        seen.add(r.store)
        const owners = primaries.get(r.store)
        if (owners) {
          out.push(
            diagnosticAt(ws, at('store'), 'error', 'KBK_CONFIG_REPLICA', `${where}.store: "${r.store}" is the store of policy ${owners.map((o) => `"${o}"`).join(', ')}; a replica store holds copies only`, `Define a second store on the same bucket or container with its own prefix (e.g. prefix: replicas/) and name that one here.`),
          )
        }
        if (!ws.retention[r.retention]) {
          const guess = closest(r.retention, tiers)
          out.push(diagnosticAt(ws, at('retention'), 'error', 'KBK_CONFIG_UNDEFINED_REF', `${where}.retention: retention tier "${r.retention}" is not defined`, guess ? `Did you mean "${guess}"?` : `Use one of: ${tiers.join(', ')}.`))
          return
        }
        // A shorter copy is fine for plain DR; a tag with retention rules means every copy keeps at least as long.
        if (ws.retention[p.retention] && !durationAtLeast(r.tier.maxAgeMs, p.tier.maxAgeMs)) {
          const strict = p.tags.filter((t) => {
            const req = tags[t]?.requirements
            return req !== undefined && (req.minRetention !== undefined || req.requireImmutable === true)
          })
          if (strict.length > 0) {
            out.push(
              diagnosticAt(
                ws,
                at('retention'),
                'error',
                'KBK_CONFIG_REPLICA',
                `${where}.retention: tier "${r.retention}" keeps the copy ${r.tier.maxAge}, shorter than the primary's "${p.tier.name}" (${p.tier.maxAge}), and policy "${p.name}" is tagged ${strict.join(', ')}, which sets retention rules for its backups`,
                `Give the replica a tier at least as long as "${p.tier.name}" (or omit retention to use it), or remove the tag.`,
              ),
            )
          }
        }
      })
    }
    for (const r of Object.values(ws.restores)) {
      const store = r.from.store
      const p = ws.policies[r.from.policy]
      if (store === undefined || !p) continue
      if (store === p.store || p.replicas.some((x) => x.store === store)) continue
      const copies = [...new Set([p.store, ...p.replicas.map((x) => x.store).filter((x) => ws.stores[x] !== undefined)])]
      out.push(
        diagnosticAt(ws, ['restores', r.name, 'from', 'store'], 'error', 'KBK_CONFIG_UNDEFINED_REF', `restores.${r.name}.from.store: "${store}" holds no copy of policy "${p.name}" (its copies: ${copies.join(', ')})`, `Use one of: ${copies.join(', ')}.`),
      )
    }
    return out
  },
}
