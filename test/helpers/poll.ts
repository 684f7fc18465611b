// One way to wait for a condition in tests: poll it, bounded by wall time. A bound by attempts
// stretches with the machine's load in the wrong direction (each poll gets slower, not the thing
// awaited faster); a sleep of a fixed length is a guess.

/**
 * Reads until `done` holds for what `read` returns, `every` ms apart, for at most `ms` of wall time.
 * Returns the last value read, whether or not `done` held for it: the caller asserts on it, so a
 * failure shows what was last seen.
 */
export async function pollUntil<T>(read: () => T | Promise<T>, done: (value: T) => boolean, options: {ms?: number; every?: number} = {}): Promise<T> {
  const end = Date.now() + (options.ms ?? 60_000)
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() >= end) return value
    await new Promise((r) => setTimeout(r, options.every ?? 20))
  }
}
