// What the planners share: deterministic iteration, full-match patterns, notes. Pure.

export const DAY = 86_400_000

export function sortedValues<T>(record: Record<string, T>): T[] {
  return Object.keys(record)
    .sort()
    .map((k) => record[k]!)
}

export function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k]!])
}

/** A workspace pattern matches the whole name, never a part of it. */
export function fullMatch(re: RegExp, s: string): boolean {
  const m = re.exec(s)
  return m !== null && m.index === 0 && m[0].length === s.length
}

export function notesField(notes: string[]): {notes?: string[]} {
  return notes.length > 0 ? {notes} : {}
}
