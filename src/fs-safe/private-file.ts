// Files rig writes and reads back to decide what to do (its process registry, the state file,
// snapshots): written whole under a fresh name opened exclusively and without following links,
// then renamed into place, readable by rig's user only; read back only when they are regular
// files this user owns. A link or a file planted by someone else is never written through nor
// believed.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { myUid, UnsafePathError } from './private-dir.ts'

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_APPEND } = fs.constants

/**
 * Writes `data` to `file` atomically: a fresh `<file>.<random>.tmp` created with O_EXCL and
 * O_NOFOLLOW (mode `mode`, 0600 by default), then renamed over `file` (a link there is
 * replaced, never followed). Readers see the old content or the new, never a part.
 */
export function writePrivateFile(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
  try {
    try {
      fs.writeFileSync(fd, data)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

/**
 * Opens `file` for appending, creating it (mode 0600) when missing, emptied when `truncate`;
 * never through a link, and never a file another user owns (a log file in a directory they can
 * write, planted to make root's rig truncate something). `truncate` empties it.
 */
export function openOwnFileForWriting(file: string, options: { truncate: boolean }): number {
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_APPEND, 0o600)
  try {
    const st = fs.fstatSync(fd)
    const uid = myUid()
    if (!st.isFile() || (uid >= 0 && st.uid !== uid)) throw new UnsafePathError(file, `it is not a regular file of this user (owned by uid ${st.uid})`, 'Remove it; rig makes its own')
    // O_TRUNC only after the checks: a planted file of someone else's stays as it was.
    if (options.truncate) fs.ftruncateSync(fd, 0)
    return fd
  } catch (err) {
    fs.closeSync(fd)
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new UnsafePathError(file, 'it is a symbolic link', 'Remove it; rig makes its own')
    throw err
  }
}

/**
 * Reads `file` when it is a regular file owned by this user (opened with O_NOFOLLOW, checked
 * on the open descriptor); undefined when it does not exist. Throws {@link UnsafePathError}
 * for a link or another user's file.
 */
export function readOwnFile(file: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') throw new UnsafePathError(file, 'it is a symbolic link', 'Remove it')
    throw err
  }
  try {
    const st = fs.fstatSync(fd)
    const uid = myUid()
    if (!st.isFile()) throw new UnsafePathError(file, 'it is not a regular file', 'Remove it')
    if (uid >= 0 && st.uid !== uid) throw new UnsafePathError(file, `it was written by another user (uid ${st.uid}), and rig only believes its own files`, 'Remove it')
    return fs.readFileSync(fd, 'utf8')
  } finally {
    fs.closeSync(fd)
  }
}
