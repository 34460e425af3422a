// Finds the MariaDB or MySQL server binary and tells which one it is: Debian installs MariaDB's
// server under both names (`mariadbd`, and `mysqld` as a link), so the name proves nothing and
// `--version` decides.
import fs from 'node:fs'
import path from 'node:path'
import { MissingBinaryError } from '../../errors.ts'
import { findBinary } from '../../providers/process/binaries.ts'
import { run } from '../../providers/process/run.ts'

/** Which server a binary is. */
export type Flavor = 'mariadb' | 'mysql'

/** A server binary and what it is. */
export interface ServerBinary {
  path: string
  flavor: Flavor
  /** e.g. `10.11.19`. */
  version: string
}

const WELL_KNOWN = ['/usr/sbin', '/usr/local/mysql/bin', '/usr/local/bin', '/opt/homebrew/bin', '/opt/homebrew/opt/mariadb/bin', '/opt/homebrew/opt/mysql/bin']

/** What to install, per flavour. */
export const INSTALL_HINT: Readonly<Record<Flavor, string>> = {
  mariadb: 'apt-get install mariadb-server (Debian/Ubuntu), dnf install mariadb-server, or brew install mariadb',
  mysql: 'install MySQL Community Server (dev.mysql.com/downloads, or apt-get install mysql-server where your distribution ships it), or brew install mysql',
}

const ENV_VAR: Readonly<Record<Flavor, string>> = { mariadb: 'RIG_MARIADB_BIN_DIR', mysql: 'RIG_MYSQL_BIN_DIR' }

const versions = new Map<string, Promise<{ flavor: Flavor; version: string }>>()

/** `--version` of a server binary, memoised: `mysqld  Ver 10.11.19-MariaDB…` or `mysqld  Ver 8.4.2 for Linux…`. */
export function serverVersion(bin: string): Promise<{ flavor: Flavor; version: string }> {
  let v = versions.get(bin)
  if (!v) {
    v = run(bin, ['--no-defaults', '--version']).then((out) => ({
      flavor: /mariadb/i.test(out) ? 'mariadb' : 'mysql',
      version: out.match(/Ver\s+(\d+\.\d+\.\d+)/)?.[1] ?? out.trim(),
    }))
    versions.set(bin, v)
    v.catch(() => versions.delete(bin))
  }
  return v
}

/** Candidate server binaries for `flavor`, in search order. */
function candidates(flavor: Flavor, binDir: string | undefined): { paths: string[]; searched: string[] } {
  const names = flavor === 'mariadb' ? ['mariadbd', 'mysqld'] : ['mysqld']
  const paths: string[] = []
  const searched = new Set<string>()
  for (const name of names) {
    const found = findBinary({ name, binDir, envVar: ENV_VAR[flavor], wellKnown: WELL_KNOWN })
    for (const s of found.searched) searched.add(s)
    if (found.path) paths.push(found.path)
  }
  return { paths, searched: [...searched] }
}

/**
 * The server binary of `flavor`. `mysql()` asks for a MySQL server: a `mysqld` that turns
 * out to be MariaDB does not count, and the error says so.
 */
export async function requireServer(service: string, flavor: Flavor, binDir?: string): Promise<ServerBinary> {
  const { paths, searched } = candidates(flavor, binDir)
  const others: string[] = []
  for (const p of paths) {
    const real = fs.realpathSync(p)
    const v = await serverVersion(real)
    if (v.flavor === flavor) return { path: real, ...v }
    others.push(`${p} is ${v.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${v.version}`)
  }
  const hint = others.length > 0 ? `${INSTALL_HINT[flavor]} (found only: ${others.join('; ')}; ${flavor === 'mysql' ? 'use mariadb() for it' : 'use mysql() for it'})` : INSTALL_HINT[flavor]
  throw new MissingBinaryError(flavor === 'mariadb' ? 'mariadbd' : 'mysqld (MySQL)', service, searched, hint, ENV_VAR[flavor])
}

/** The server of `flavor` if one is installed, for `rig doctor`. */
export async function findServer(flavor: Flavor): Promise<ServerBinary | undefined> {
  return requireServer('doctor', flavor).catch(() => undefined)
}

/** `mariadb-install-db` next to the server or on the search path (MariaDB only). */
export function findInstallDb(server: string): string | undefined {
  for (const dir of [path.dirname(server), path.join(path.dirname(server), '..', 'bin'), path.join(path.dirname(server), '..', 'scripts')]) {
    for (const name of ['mariadb-install-db', 'mysql_install_db']) {
      const p = path.join(dir, name)
      if (fs.existsSync(p)) return p
    }
  }
  return findBinary({ name: 'mariadb-install-db' }).path ?? findBinary({ name: 'mysql_install_db' }).path
}
