// Plain text tables for people: a header row and left-aligned columns two spaces apart, padded to
// the widest cell, trailing blanks trimmed. Every command that prints a table uses this one.

/** A missing cell (a short row) prints as blank. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  return [header, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}
