// rig's temp root: one per user, private, checked before every use. Every temp file rig keeps
// (environments, port reservations, Redis snapshots) lives below it, so no other local user can
// plant, read or replace anything rig acts on. Test data is thrown away, so it lives in memory
// when it can: /dev/shm (tmpfs) copies a data directory ~10× faster than a disk-backed /tmp.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ensurePrivateDir, myUid, privateDirMode, privatePath, verifyAncestors, verifyPrivateDir } from './private-dir.ts'

let base: string | undefined
/** The root whose ancestors were checked (once per process: only root or this user can change them). */
let checked: string | undefined

function defaultBase(): string {
  if (base === undefined) {
    base = os.tmpdir()
    try {
      fs.accessSync('/dev/shm', fs.constants.W_OK)
      if (fs.statSync('/dev/shm').isDirectory()) base = '/dev/shm'
    } catch {
      // no tmpfs: use the OS temp dir
    }
  }
  return base
}

/**
 * Path of this user's temp root: `$RIG_TMP_DIR/testrig` when set (a directory of yours), else
 * `/dev/shm/testrig-<uid>` (or under `os.tmpdir()` without tmpfs). Not created: see {@link tempRoot}.
 */
export function tempRootPath(): string {
  if (process.env.RIG_TMP_DIR) return path.join(path.resolve(process.env.RIG_TMP_DIR), 'testrig')
  return path.join(defaultBase(), `testrig-${myUid()}`)
}

/**
 * This user's temp root, made private (0700, 0711 as root) on first use and verified on every
 * call: a real directory of this user that no one else can read or write, under directories no
 * one else can replace. Throws `RIG_UNSAFE_PATH` (naming the path, its owner and the way out)
 * otherwise.
 */
export function tempRoot(): string {
  const root = tempRootPath()
  if (checked === root) {
    verifyPrivateDir(root)
    return root
  }
  const parent = path.dirname(root)
  if (process.env.RIG_TMP_DIR && !fs.existsSync(parent)) fs.mkdirSync(parent, { recursive: true, mode: privateDirMode() })
  ensurePrivateDir(root)
  verifyAncestors(root)
  checked = root
  return root
}

/** A private directory below the temp root (`tempDir('envs')`), made and verified. */
export function tempDir(...parts: string[]): string {
  return privatePath(tempRoot(), ...parts)
}
