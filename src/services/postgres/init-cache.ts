// initdb takes seconds; copying an initialised data directory takes milliseconds. The first
// start initialises once into a cache keyed by version and options, every start copies it.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { ensureCacheEntry } from '../../providers/process/dir-lock.ts'
import { run } from '../../providers/process/run.ts'
import { diskFullError, treeBytes } from '../../system-error.ts'
import { chownForService, type ServiceUser } from '../../providers/process/user.ts'
import { PG_HBA } from './auth.ts'

export { postgresVersion } from './version.ts'

/** What determines the content of an initialised data directory. */
export interface InitKey {
  binDir: string
  version: string
  user: string
  database: string
  initdbArgs: readonly string[]
  /** The account owning the files (the server's), `self` when rig does not run as root. */
  owner: string
}

/** Bumped when the way rig initialises data changes, so old caches are not reused. */
const CACHE_LAYOUT = 3

function quoteIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`
}

/** Where the cached data directory for `key` lives. */
export function initCacheDir(key: InitKey): string {
  const hash = createHash('sha256').update(JSON.stringify({ layout: CACHE_LAYOUT, ...key })).digest('hex').slice(0, 16)
  return path.join(cacheRoot(), 'postgres', `${key.version}-${hash}`)
}

/**
 * Returns a cached, initialised data directory for `key`, creating it on first use.
 * `onCold` is called when initdb has to run, so the caller can tell the user.
 */
export async function ensureInitialised(key: InitKey, user: ServiceUser | undefined, onCold?: () => void): Promise<string> {
  const dir = initCacheDir(key)
  await ensureCacheEntry(
    dir,
    async (staging) => {
      chownForService(staging, user)
      const stagingData = path.join(staging, 'data')
      await run(path.join(key.binDir, 'initdb'), ['-D', stagingData, '-U', key.user, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--wal-segsize=1', ...key.initdbArgs], { user, cwd: staging })
      // initdb refuses password authentication without a password, and the cache must hold
      // none (it is shared by every environment): write rig's own rules instead.
      const hba = path.join(stagingData, 'pg_hba.conf')
      fs.rmSync(hba, { force: true })
      fs.writeFileSync(hba, PG_HBA, { flag: 'wx', mode: 0o600 })
      chownForService(hba, user)
      if (key.database !== 'postgres') {
        // Single-user mode creates the database without starting a server.
        await run(path.join(key.binDir, 'postgres'), ['--single', '-D', stagingData, '-c', 'fsync=off', 'postgres'], {
          user,
          cwd: staging,
          input: `CREATE DATABASE ${quoteIdent(key.database)};\n`,
        })
      }
      fs.writeFileSync(path.join(staging, 'key.json'), JSON.stringify(key, null, 2))
    },
    onCold,
  )
  return path.join(dir, 'data')
}

/** Copies the cached data directory into an instance dir, keeping owner and permissions. */
export async function copyDataDir(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-a', '--reflink=auto', from, to])
  } catch (err) {
    // cp reports a full disk once per file (hundreds of lines): one error says it all.
    if (/No space left on device/.test((err as Error).message)) {
      // The partial copy is garbage; without it, the free space shown is what the user has.
      fs.rmSync(to, { recursive: true, force: true })
      throw diskFullError("copying PostgreSQL's data directory", to, treeBytes(from), err)
    }
    throw err
  }
}
