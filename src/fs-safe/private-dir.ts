// Directories only rig's user can change. rig runs as root on shared CI machines: a directory
// another user created or can write (a planted `/dev/shm/testrig`, a link in its place) would
// let them choose what root's rig writes, reads and kills. So every directory rig keeps files
// in is made by rig, and checked before each use: a real directory (lstat: never a link), owned
// by this user, that no one else can read or write.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'

/** A directory or file rig would use is not its own: someone else owns it, can write it, or it is a link. */
export class UnsafePathError extends RigError {
  readonly path: string
  constructor(file: string, why: string, fix: string) {
    super('RIG_UNSAFE_PATH', `rig does not use ${file}: ${why}. ${fix}`)
    this.name = 'UnsafePathError'
    this.path = file
  }
}

/** The effective uid (-1 where there are none). */
export function myUid(): number {
  return process.geteuid?.() ?? -1
}

/**
 * The mode rig gives its directories: 0700, or 0711 as root, where the servers run as rig's
 * service account and must pass through (never list) the directories above their own.
 */
export function privateDirMode(): number {
  return myUid() === 0 ? 0o711 : 0o700
}

const FIX = 'Remove it (rig makes it again, private), or set RIG_TMP_DIR to a directory of yours'

function describe(st: fs.Stats): string {
  return `owned by uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`
}

/**
 * Throws {@link UnsafePathError} unless `dir` is a real directory owned by this user with no
 * read or write bit for group and others (search bits are allowed: see {@link privateDirMode}).
 * Returns its lstat.
 */
export function verifyPrivateDir(dir: string, fix = FIX): fs.Stats {
  const st = fs.lstatSync(dir)
  if (st.isSymbolicLink()) throw new UnsafePathError(dir, 'it is a symbolic link', fix)
  if (!st.isDirectory()) throw new UnsafePathError(dir, 'it is not a directory', fix)
  const uid = myUid()
  if (uid >= 0 && st.uid !== uid) throw new UnsafePathError(dir, `it belongs to another user (${describe(st)}, rig runs as uid ${uid})`, fix)
  if ((st.mode & 0o066) !== 0) throw new UnsafePathError(dir, `other users can read or write it (${describe(st)})`, fix)
  return st
}

/** True when {@link verifyPrivateDir} would accept `dir`. */
export function isPrivateDir(dir: string): boolean {
  try {
    verifyPrivateDir(dir)
    return true
  } catch {
    return false
  }
}

/**
 * Makes `dir` (one level: its parent must exist) with {@link privateDirMode} unless it exists,
 * then verifies it. A directory this user made with a looser mode (an older rig's 0755) is
 * tightened; one that others could write is refused, whatever it holds.
 */
export function ensurePrivateDir(dir: string, fix = FIX): string {
  const mode = privateDirMode()
  try {
    fs.mkdirSync(dir, { mode })
    // The umask may have taken bits rig needs (0711 as root).
    fs.chmodSync(dir, mode)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const st = fs.lstatSync(dir)
    if (!st.isSymbolicLink() && st.isDirectory() && st.uid === myUid() && (st.mode & 0o022) === 0 && (st.mode & 0o044) !== 0) fs.chmodSync(dir, mode)
  }
  verifyPrivateDir(dir, fix)
  return dir
}

/**
 * Makes every directory of `parts` below `root` (a private directory), each private and
 * verified; returns the full path. Parts are single names: no separators, no `..`.
 */
export function privatePath(root: string, ...parts: string[]): string {
  verifyPrivateDir(root)
  let dir = root
  for (const p of parts) {
    if (!p || p === '.' || p === '..' || p.includes('/') || p.includes('\0')) throw new RigError('RIG_UNSAFE_PATH', `"${p}" is not a plain directory name`)
    dir = ensurePrivateDir(path.join(dir, p))
  }
  return dir
}

/**
 * Throws unless no one but this user and root can replace `dir` or a directory above it: each
 * is owned by this user or root and writable by no one else unless sticky (like /tmp, where
 * no one may rename what is not theirs).
 */
export function verifyAncestors(dir: string): void {
  const uid = myUid()
  for (let d = path.dirname(fs.realpathSync(dir)); ; d = path.dirname(d)) {
    const st = fs.statSync(d)
    if (st.uid !== uid && st.uid !== 0) throw new UnsafePathError(dir, `${d} above it belongs to another user (${describe(st)}), who could replace it`, FIX)
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) throw new UnsafePathError(dir, `${d} above it can be written by other users and is not sticky (${describe(st)})`, FIX)
    if (path.dirname(d) === d) return
  }
}

/** True when `file`'s real path is `dir` or inside it (both resolved; a missing `file` is not). */
export function isInside(file: string, dir: string): boolean {
  let real: string
  let base: string
  try {
    real = fs.realpathSync(file)
    base = fs.realpathSync(dir)
  } catch {
    return false
  }
  return real === base || real.startsWith(base.endsWith('/') ? base : `${base}/`)
}
