// Which PostgreSQL to run: `binDir` when given (it must exist and hold `postgres`), else the
// newest found, or the installed one matching `version`. An explicit choice that cannot be met
// is an error, never a silent substitute (another version, or the embedded PGlite).
import fs from 'node:fs'
import path from 'node:path'
import { MissingBinaryError, RigError } from '../../errors.ts'
import { expandDirs, findBinary, type BinaryFound } from '../../providers/process/binaries.ts'
import { postgresVersion } from './init-cache.ts'

/** Debian/Ubuntu and common Linux install locations, newest major first. */
const WELL_KNOWN = ['/usr/lib/postgresql/*/bin', '/usr/pgsql-*/bin', '/usr/local/pgsql/bin', '/opt/homebrew/opt/postgresql@*/bin', '/usr/local/opt/postgresql@*/bin']

export const INSTALL_HINT = 'apt-get install postgresql (Debian/Ubuntu), dnf install postgresql-server, or brew install postgresql'

const installHint = (v: string): string =>
  `apt-get install postgresql-${v} (Debian/Ubuntu, from apt.postgresql.org), dnf install postgresql${v}-server, or brew install postgresql@${v}`

/** Finds the first `postgres` server binary: `binDir`, RIG_POSTGRES_BIN_DIR, PATH, then well-known locations. */
export function findPostgres(options: { binDir?: string | undefined }): BinaryFound {
  return findBinary({ name: 'postgres', binDir: options.binDir, envVar: 'RIG_POSTGRES_BIN_DIR', wellKnown: WELL_KNOWN })
}

/** Every distinct `postgres` binary on this machine (by real path), in search order. */
function allPostgres(): string[] {
  const dirs = [process.env.RIG_POSTGRES_BIN_DIR, ...(process.env.PATH ?? '').split(path.delimiter), ...WELL_KNOWN.flatMap(expandDirs)].filter((d): d is string => Boolean(d))
  const seen = new Set<string>()
  for (const d of dirs) {
    try {
      const real = fs.realpathSync(path.join(d, 'postgres'))
      fs.accessSync(real, fs.constants.X_OK)
      seen.add(real)
    } catch {
      // not here
    }
  }
  return [...seen]
}

/** `15.20` satisfies `15` and `15.20`; `9.6` satisfies `9.6`. */
export function versionMatches(actual: string, wanted: string): boolean {
  return actual === wanted || actual.startsWith(`${wanted}.`)
}

/**
 * The `postgres` binary for a service, or undefined when none is installed and nothing was
 * asked for explicitly (the caller may then fall back to PGlite). Throws when `binDir` or
 * `version` cannot be satisfied, naming what was asked and what was found.
 */
export async function resolvePostgres(service: string, options: { binDir?: string | undefined; version?: string | undefined }): Promise<string | undefined> {
  const { binDir, version } = options
  if (binDir !== undefined) {
    const found = findPostgres({ binDir })
    if (!found.path) {
      const why = fs.existsSync(binDir) ? `which is not in its binDir ${binDir}` : `but its binDir ${binDir} does not exist`
      throw new MissingBinaryError('postgres', service, found.searched, version ? installHint(version) : INSTALL_HINT, 'RIG_POSTGRES_BIN_DIR', why)
    }
    const bin = fs.realpathSync(found.path)
    if (version) {
      const actual = await postgresVersion(bin)
      if (!versionMatches(actual, version)) {
        throw new RigError('RIG_POSTGRES_VERSION', `service "${service}" asks for PostgreSQL ${version}, but its binDir ${binDir} holds PostgreSQL ${actual}: point binDir at a PostgreSQL ${version} installation, or remove \`version\``)
      }
    }
    return bin
  }
  if (!version) {
    const found = findPostgres({})
    return found.path ? fs.realpathSync(found.path) : undefined
  }
  const found: string[] = []
  for (const bin of allPostgres()) {
    const actual = await postgresVersion(bin).catch(() => undefined)
    if (actual === undefined) continue
    if (versionMatches(actual, version)) return bin
    found.push(`${actual} (${path.dirname(bin)})`)
  }
  throw new RigError(
    'RIG_POSTGRES_VERSION',
    `service "${service}" asks for PostgreSQL ${version}, which is not installed.\n` +
      `  found: ${found.join(', ') || 'no PostgreSQL at all'}\n` +
      `  install it: ${installHint(version)}\n` +
      `  or remove \`version\` to use the newest installed, or set \`binDir\` to where it is.`,
  )
}
