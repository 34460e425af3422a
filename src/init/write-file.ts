// Files `rig init` writes in a project it did not create: never through a symbolic link (rig
// may run as root on a shared CI machine), and never over an existing file unless asked.
import fs from 'node:fs'
import { InitError } from './errors.ts'

/**
 * Writes `text` to `file`. `replace: false` creates it and fails if anything (a file, a link)
 * is there already; `replace: true` truncates a regular file but never follows a link.
 */
export function writeProjectFile(file: string, text: string, options: { replace: boolean }): void {
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = fs.constants
  const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (options.replace ? O_TRUNC : O_EXCL)
  let fd: number
  try {
    fd = fs.openSync(file, flags, 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new InitError('RIG_INIT_UNSAFE_PATH', `${file} is a symbolic link: rig init does not write through links; replace it with a regular file`, { cause: err })
    throw err
  }
  try {
    fs.writeFileSync(fd, text)
  } finally {
    fs.closeSync(fd)
  }
}

/** Reads a project file, or `undefined` when it does not exist. Links are refused. */
export function readProjectFile(file: string): string | undefined {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(file)
  } catch {
    return undefined
  }
  if (stat.isSymbolicLink()) throw new InitError('RIG_INIT_UNSAFE_PATH', `${file} is a symbolic link: rig init does not write through links; replace it with a regular file`)
  return fs.readFileSync(file, 'utf8')
}
