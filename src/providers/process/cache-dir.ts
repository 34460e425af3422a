import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Root of rig's persistent cache (initialised data directories and the like).
 * `RIG_CACHE_DIR` overrides it; as root it lives under /var/cache so that the unprivileged
 * service user can traverse it.
 */
export function cacheRoot(): string {
  if (process.env.RIG_CACHE_DIR) return process.env.RIG_CACHE_DIR
  if (process.getuid?.() === 0) return '/var/cache/testrig'
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'testrig')
}

let tmpBase: string | undefined

/**
 * Root of rig's per-run temp dirs (instances, port reservations). Test data is thrown away,
 * so it lives in memory when it can: /dev/shm (tmpfs) copies a data directory ~10× faster
 * than a disk-backed /tmp. `RIG_TMP_DIR` overrides it.
 */
export function tempRoot(): string {
  if (process.env.RIG_TMP_DIR) return path.join(process.env.RIG_TMP_DIR, 'testrig')
  if (tmpBase === undefined) {
    tmpBase = os.tmpdir()
    try {
      fs.accessSync('/dev/shm', fs.constants.W_OK)
      if (fs.statSync('/dev/shm').isDirectory()) tmpBase = '/dev/shm'
    } catch {
      // no tmpfs: use the OS temp dir
    }
  }
  return path.join(tmpBase, 'testrig')
}
