// `${VAR}` and `${VAR:-default}` in scalar values; `$${` is a literal `${`. Pure: the
// environment is a parameter. An unset (or empty) variable without a default is an error, never "".

export interface Interpolation {
  value: string
  /** Some part of the value came from the environment (so it is never printed). */
  fromEnv: boolean
  /** The value contained at least one `${...}` reference. */
  interpolated: boolean
  /** Variables referenced but unset or empty, with no default. */
  missing: string[]
  /** Malformed references, e.g. an unclosed `${`. */
  malformed: string[]
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export function interpolate(text: string, env: Record<string, string | undefined>): Interpolation {
  const out: Interpolation = {value: '', fromEnv: false, interpolated: false, missing: [], malformed: []}
  let i = 0
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out.value += '${'
      i += 3
      continue
    }
    if (!text.startsWith('${', i)) {
      out.value += text[i]
      i++
      continue
    }
    const end = text.indexOf('}', i + 2)
    if (end < 0) {
      out.malformed.push(text.slice(i))
      out.value += text.slice(i)
      break
    }
    const body = text.slice(i + 2, end)
    const sep = body.indexOf(':-')
    const name = sep < 0 ? body : body.slice(0, sep)
    const fallback = sep < 0 ? undefined : body.slice(sep + 2)
    out.interpolated = true
    if (!NAME.test(name)) {
      out.malformed.push('${' + body + '}')
      out.value += '${' + body + '}'
    } else {
      const v = env[name]
      if (v !== undefined && v !== '') {
        out.value += v
        out.fromEnv = true
      } else if (fallback !== undefined) {
        out.value += fallback
      } else {
        out.missing.push(name)
        out.value += '${' + name + '}'
      }
    }
    i = end + 1
  }
  return out
}
