// Finds server binaries: an explicit directory, an env override, PATH, then well-known
// install locations such as Debian's /usr/lib/postgresql/<major>/bin.
import fs from 'node:fs'
import path from 'node:path'

/** Where to look for a binary and what was looked at. */
export interface BinarySearch {
  /** The binary's file name, e.g. `postgres`. */
  name: string
  /** A directory given by the user; when set, only it is searched. */
  binDir?: string | undefined
  /** Env var holding a directory to search first, e.g. `RIG_POSTGRES_BIN_DIR`. */
  envVar?: string
  /** Extra directories, searched after PATH (globs with one `*` segment allowed, newest version first). */
  wellKnown?: readonly string[]
}

/** The outcome: a path, or the list of places searched. */
export interface BinaryFound {
  path: string | undefined
  searched: string[]
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK)
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}

/** Expands one `*` in a directory pattern, newest (numerically largest) match first. */
export function expandDirs(pattern: string): string[] {
  const star = pattern.indexOf('*')
  if (star < 0) return [pattern]
  const parent = pattern.slice(0, pattern.lastIndexOf('/', star))
  const rest = pattern.slice(pattern.indexOf('/', star))
  let entries: string[]
  try {
    entries = fs.readdirSync(parent)
  } catch {
    return []
  }
  return entries
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
    .map((e) => `${parent}/${e}${rest === pattern.slice(star) ? '' : rest}`)
}

/** Searches for a binary. */
export function findBinary(search: BinarySearch): BinaryFound {
  const dirs: string[] = []
  if (search.binDir) dirs.push(search.binDir)
  else {
    const fromEnv = search.envVar ? process.env[search.envVar] : undefined
    if (fromEnv) dirs.push(fromEnv)
    dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const w of search.wellKnown ?? []) dirs.push(...expandDirs(w))
  }
  const searched: string[] = []
  for (const d of dirs) {
    const p = path.join(d, search.name)
    searched.push(d)
    // Not resolved through symlinks: some servers (redis) behave by the name they are run as.
    if (isExecutable(p)) return { path: p, searched }
  }
  return { path: undefined, searched }
}
