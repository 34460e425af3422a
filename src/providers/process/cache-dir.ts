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


