// Small collection helpers shared by every layer.

/**
 * Appends `value` to the list under `key`, creating it. Grouping with
 * `map.set(k, [...(map.get(k) ?? []), v])` copies the list on every add: quadratic, which took
 * seconds for 10,000 policies in one store (issue 22) and would for a partition's segments.
 */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
