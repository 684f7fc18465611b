// "Did you mean …?" for names a user typed: commands, flags, policies, topics, plan addresses.
// Pure. A plain Levenshtein distance is enough for the short lists a CLI compares against, and
// cheaper to keep than a dependency.

/** Edit distance between a and b (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * The candidate closest to `typed`, when close enough to be a plausible typo: within a third of
 * the longer name, or a prefix of it (`pla` → `plan`). undefined when nothing is close, so a
 * wild guess is never offered as a fix.
 */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  const t = typed.toLowerCase()
  for (const c of candidates) {
    const lc = c.toLowerCase()
    const d = lc.startsWith(t) && t.length >= 2 ? Math.min(1, editDistance(t, lc)) : editDistance(t, lc)
    const limit = Math.max(1, Math.floor(Math.max(t.length, lc.length) / 3))
    if (d <= limit && (d < bestDistance || (d === bestDistance && best !== undefined && c < best))) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** " Did you mean X?" or the empty string: ready to append to a message. */
export function didYouMean(typed: string, candidates: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const c = closest(typed, candidates)
  return c === undefined ? '' : ` Did you mean ${quote(c)}?`
}
