// The `rig` command starts from V8's code cache (`module.enableCompileCache`), kept in a
// directory only this user can write. Node's default, os.tmpdir()/node-compile-cache, is shared:
// another local user can create it first, own the per-uid subdirectory inside, and plant cache
// entries that Node loads and V8 runs as code without asking who wrote them. So the cache lives
// in the user's cache home, and is used only when that directory is theirs alone: owned by them,
// mode 0700, and no one else can replace it or a directory above it.
import fs from 'node:fs'
import module from 'node:module'
import os from 'node:os'
import path from 'node:path'

/** Where `rig` keeps its compile cache: `$XDG_CACHE_HOME/testrig/node-compile-cache`, else under `~/.cache`. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache')
  return path.join(base, 'testrig', 'node-compile-cache')
}

/**
 * Makes `dir` (mode 0700) unless it exists, and tells whether only `uid` can write it: it is a
 * real directory owned by `uid` that no one else can write, and every directory above it is
 * owned by `uid` or root and writable by no one else (or sticky, like /tmp, where no one else
 * may rename what is not theirs). Nothing is made inside a directory `uid` does not own: root
 * run through `sudo` with the user's HOME must not leave directories of root's in it.
 */
export function privateDir(dir: string, uid: number): boolean {
  try {
    let st = fs.lstatSync(dir, { throwIfNoEntry: false })
    if (!st) {
      let existing = path.dirname(dir)
      while (!fs.existsSync(existing)) existing = path.dirname(existing)
      if (fs.statSync(existing).uid !== uid) return false
      fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 })
      fs.mkdirSync(dir, { mode: 0o700 })
      st = fs.lstatSync(dir)
    }
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return false
    // Readable by others, the cache would show them the code of the config and check files.
    if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700)
    for (let d = path.dirname(fs.realpathSync(dir)); ; d = path.dirname(d)) {
      const up = fs.statSync(d)
      if (up.uid !== uid && up.uid !== 0) return false
      if ((up.mode & 0o022) !== 0 && (up.mode & 0o1000) === 0) return false
      if (path.dirname(d) === d) return true
    }
  } catch {
    return false
  }
}

/**
 * Enables the compile cache for this process in {@link compileCacheDir} when it is private;
 * returns the directory used, or undefined. `NODE_COMPILE_CACHE` (a directory the user chose,
 * already enabled by Node) and `NODE_DISABLE_COMPILE_CACHE=1` win. Never throws: the cache only
 * makes the next start faster.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof module.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return undefined
  if (env.NODE_COMPILE_CACHE) return module.getCompileCacheDir?.()
  try {
    const dir = compileCacheDir(env)
    const uid = process.geteuid?.()
    // Without uids (Windows), the home directory is the user's own.
    if (uid !== undefined && !privateDir(dir, uid)) return undefined
    return module.enableCompileCache(dir).directory
  } catch {
    return undefined
  }
}
