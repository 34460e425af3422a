import { MissingBinaryError } from '../../errors.ts'
import { findBinary, type BinaryFound } from '../../providers/process/binaries.ts'

/** Debian/Ubuntu and common Linux install locations, newest major first. */
const WELL_KNOWN = ['/usr/lib/postgresql/*/bin', '/usr/pgsql-*/bin', '/usr/local/pgsql/bin', '/opt/homebrew/opt/postgresql@*/bin', '/usr/local/opt/postgresql@*/bin']

export const INSTALL_HINT = 'apt-get install postgresql (Debian/Ubuntu), dnf install postgresql-server, or brew install postgresql'

/** Finds the `postgres` server binary, honouring `binDir`, `version` and RIG_POSTGRES_BIN_DIR. */
export function findPostgres(options: { binDir?: string | undefined; version?: string | undefined }): BinaryFound {
  const wellKnown = options.version ? WELL_KNOWN.map((w) => w.replace('*', options.version ?? '*')) : WELL_KNOWN
  // A pinned version must come from a versioned location, not whatever `postgres` is on PATH.
  if (options.version && !options.binDir && !process.env.RIG_POSTGRES_BIN_DIR) {
    return findBinary({ name: 'postgres', wellKnown })
  }
  return findBinary({ name: 'postgres', binDir: options.binDir, envVar: 'RIG_POSTGRES_BIN_DIR', wellKnown })
}

/** Like {@link findPostgres} but throws a {@link MissingBinaryError} naming what to install. */
export function requirePostgres(service: string, options: { binDir?: string | undefined; version?: string | undefined }): string {
  const found = findPostgres(options)
  if (!found.path) throw new MissingBinaryError('postgres', service, found.searched, INSTALL_HINT, 'RIG_POSTGRES_BIN_DIR')
  return found.path
}
