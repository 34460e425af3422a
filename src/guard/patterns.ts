// Glob patterns (`*` and `?`) shared by every store: table names, key patterns, exclusions.

const cache = new Map<string, RegExp>()

/** Compiles a glob where `*` matches any run of characters and `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob)
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
    // `s`: a Redis key may hold a newline, which `*` must match like any other byte.
    re = new RegExp(`^${body}$`, 's')
    cache.set(glob, re)
  }
  return re
}

/** True when `name` matches one of `globs`. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(name))
}
