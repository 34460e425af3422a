// OS errors users hit on shared and full machines (EACCES on another user's temp dir, ENOSPC
// half-way through a copy), turned into one RigError that says where, why and what to do —
// instead of a stack trace or one line per file that failed.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from './errors.ts'

const MiB = 2 ** 20
const size = (bytes: number): string => (bytes >= 10 * 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`)

/** The nearest existing path at or above `p`. */
function existing(p: string): string {
  let dir = path.resolve(p)
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir)
  return dir
}

/** The mount point holding `p`: the topmost ancestor on the same device. */
function mountOf(p: string): string {
  let dir = existing(p)
  const dev = fs.statSync(dir).dev
  while (path.dirname(dir) !== dir && fs.statSync(path.dirname(dir)).dev === dev) dir = path.dirname(dir)
  return dir
}

/** Total size of the files under `dir` (what a copy of it needs). */
export function treeBytes(dir: string): number {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.lstatSync(path.join(e.parentPath, e.name)).size
  }
  return total
}

/** The device holding `target` is full: one error with the mount point, free space and the need. */
export function diskFullError(what: string, target: string, neededBytes?: number, cause?: unknown): RigError {
  let where = path.dirname(target)
  let space = ''
  try {
    where = mountOf(target)
    const s = fs.statfsSync(where)
    space = `: ${size(s.bavail * s.bsize)} free of ${size(s.blocks * s.bsize)}${neededBytes !== undefined ? `, ${size(neededBytes)} needed` : ''}`
  } catch {
    // statfs is best effort: the message still names the place
  }
  return new RigError(
    'RIG_DISK_FULL',
    `no space left on the device of ${where} while ${what} (${target})${space}.\n` +
      `  free some space there, or point RIG_TMP_DIR (environments) or RIG_CACHE_DIR (PostgreSQL's init cache) at a larger disk.`,
    { cause },
  )
}

/** Who owns `p` (or its nearest existing parent), for permission errors. */
function ownership(p: string): { path: string; uid: number; mode: string } | undefined {
  try {
    const at = existing(p)
    const st = fs.statSync(at)
    return { path: at, uid: st.uid, mode: (st.mode & 0o7777).toString(8) }
  } catch {
    return undefined
  }
}

/**
 * A RigError for an OS error a user can act on (EACCES/EPERM, ENOSPC, EROFS), or undefined for
 * anything else (a bug: the caller shows the stack).
 */
export function fromSystemError(err: unknown): RigError | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string }
  if (!(e instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined
  const target = e.dest ?? e.path
  if (e.code === 'ENOSPC') return diskFullError(`calling ${e.syscall}`, target ?? '?', undefined, err)
  if (e.code === 'EROFS') return new RigError('RIG_READ_ONLY', `cannot write ${target ?? ''}: the file system is read-only. Point RIG_TMP_DIR or RIG_CACHE_DIR at a writable directory.`, { cause: err })
  if (e.code !== 'EACCES' && e.code !== 'EPERM') return undefined
  const me = process.getuid?.()
  const own = target ? ownership(target) : undefined
  const owner = own ? ` ${own.path} belongs to uid ${own.uid} (mode ${own.mode}) and you are uid ${me}.` : ''
  const fix = /(^|\/)\.rig(\/|$)/.test(target ?? '')
    ? "remove the project's .rig/ directory as its owner (`rig down` first if it runs), or run rig as that user"
    : /testrig/.test(target ?? '')
      ? "set RIG_TMP_DIR and RIG_CACHE_DIR to directories of your own, or have its owner remove it"
      : 'have its owner change or remove it'
  const hint = own && me !== undefined && own.uid !== me ? `\n  another user (or a run as root) created it: ${fix}.` : ''
  return new RigError('RIG_PERMISSION_DENIED', `permission denied: ${e.syscall} ${target ?? ''} (${e.code}).${owner}${hint}`, { cause: err })
}
