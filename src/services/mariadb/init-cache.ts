// mariadb-install-db takes about a second on tmpfs and several on disk; copying an initialised
// data dir takes milliseconds. The first start initialises once into a cache keyed by server,
// version and options; every start copies it into the instance's dir.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../../errors.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { ensureCacheEntry } from '../../providers/process/dir-lock.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, type ServiceUser } from '../../providers/process/user.ts'
import { findInstallDb, type ServerBinary } from './binaries.ts'
import { DATA_DIR_SETTINGS, settingArgs } from './settings.ts'

/** What determines the content of an initialised data dir. */
export interface MariadbInitKey {
  server: ServerBinary
  database: string
  /** The account owning the files (the copies keep it): another account needs its own cache entry. */
  owner: string
}

/** Bumped when the way rig initialises data changes, so old caches are not reused. */
const CACHE_LAYOUT = 1

const ident = (s: string): string => `\`${s.replace(/`/g, '``')}\``

/** Where the cached data dir for `key` lives. */
export function mariadbCacheDir(key: MariadbInitKey): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ layout: CACHE_LAYOUT, ...key, settings: DATA_DIR_SETTINGS[key.server.flavor] }))
    .digest('hex')
    .slice(0, 16)
  return path.join(cacheRoot(), key.server.flavor, `${key.server.version}-${hash}`)
}

/**
 * Accounts a fresh data dir holds besides root@localhost (anonymous users, root at the host's
 * name and at 127.0.0.1 without a password) go; the test database is created.
 */
function bootstrapSql(database: string): string {
  return [
    `DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost')`,
    `DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost'`,
    `CREATE DATABASE IF NOT EXISTS ${ident(database)} CHARACTER SET utf8mb4`,
  ].join(';\n') + ';\n'
}

async function initialise(key: MariadbInitKey, data: string, staging: string, user: ServiceUser | undefined): Promise<void> {
  const { server } = key
  const settings = settingArgs(DATA_DIR_SETTINGS[server.flavor])
  if (server.flavor === 'mariadb') {
    const installDb = findInstallDb(server.path)
    if (!installDb) throw new Error(`mariadb-install-db was not found next to ${server.path}; install the full MariaDB server package`)
    await run(installDb, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...settings], { user, cwd: staging })
    // Bootstrap mode runs the statements without a server listening anywhere.
    await run(server.path, ['--no-defaults', '--bootstrap', `--datadir=${data}`, ...settings], { user, cwd: staging, input: bootstrapSql(key.database) })
  } else {
    const file = path.join(staging, 'bootstrap.sql')
    fs.writeFileSync(file, bootstrapSql(key.database), { mode: 0o644 })
    await run(server.path, ['--no-defaults', '--initialize-insecure', `--datadir=${data}`, `--init-file=${file}`, ...settings], { user, cwd: staging })
  }
}

/**
 * Returns a cached, initialised data dir for `key`, creating it on first use. `onCold` is
 * called when it has to be created, so the caller can tell the user.
 */
export async function ensureMariadbData(key: MariadbInitKey, user: ServiceUser | undefined, onCold?: () => void): Promise<string> {
  const dir = mariadbCacheDir(key)
  await ensureCacheEntry(
    dir,
    async (staging) => {
      chownForService(staging, user)
      try {
        await initialise(key, path.join(staging, 'data'), staging, user)
      } catch (err) {
        throw new RigError('RIG_INIT_FAILED', `could not initialise a ${key.server.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${key.server.version} data dir (${key.server.path}): ${(err as Error).message}`, { cause: err })
      }
      fs.writeFileSync(path.join(staging, 'key.json'), JSON.stringify(key, null, 2))
    },
    onCold,
  )
  return path.join(dir, 'data')
}
