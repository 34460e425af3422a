// Named snapshots kept as JSON files in one directory (Redis, RabbitMQ): names checked, the
// directory private to rig's user (made 0700, verified before every write and read: a directory
// someone else owns or can write is refused), files written whole through src/fs-safe (a fresh
// name opened exclusively without following links, then renamed) and readable by rig's user
// only, read back only when they are its own; a missing snapshot told apart from a damaged one,
// internal snapshots (`__…`) left out of listings.
import fs from 'node:fs'
import path from 'node:path'
import { ensurePrivateDir, privateDirMode, verifyPrivateDir } from '../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../fs-safe/private-file.ts'
import { GuardRestoreError, SnapshotNotFoundError } from './errors.ts'
import { checkSnapshotName } from './postgres/postgres-snapshots.ts'

/** The snapshot files of one store, in the directory `dir` resolves to. */
export class SnapshotFiles<T> {
  private readonly store: string
  private readonly dir: () => Promise<string>
  private readonly check: (data: T) => void

  /** `check` throws when a file's content is not a snapshot this version of rig can restore. */
  constructor(store: string, dir: () => Promise<string>, check: (data: T) => void) {
    this.store = store
    this.dir = dir
    this.check = check
  }

  private async file(name: string): Promise<string> {
    checkSnapshotName(name)
    return path.join(await this.dir(), `${name}.json`)
  }

  /** Writes snapshot `name`, replacing an older one. */
  async write(name: string, data: T): Promise<void> {
    const file = await this.file(name)
    const dir = path.dirname(file)
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: privateDirMode() })
    ensurePrivateDir(dir, 'Snapshots are kept only in a directory of rig\'s user that no one else can read or write: remove it, or choose another `snapshotDir`')
    writePrivateFile(file, JSON.stringify(data))
  }

  /** Reads snapshot `name`; throws when it does not exist or cannot be read, before anything is touched. */
  async read(name: string): Promise<T> {
    const file = await this.file(name)
    let text: string | undefined
    try {
      verifyPrivateDir(path.dirname(file))
      text = readOwnFile(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotNotFoundError(name, this.store, await this.list())
      throw new GuardRestoreError('RIG_SNAPSHOT_UNREADABLE', this.store, `snapshot "${name}" cannot be read (${(err as Error).message}): ${file}`, err)
    }
    if (text === undefined) throw new SnapshotNotFoundError(name, this.store, await this.list())
    try {
      const data = JSON.parse(text) as T
      this.check(data)
      return data
    } catch (err) {
      throw new GuardRestoreError('RIG_SNAPSHOT_UNREADABLE', this.store, `snapshot "${name}" is damaged or was written by another rig version (${(err as Error).message}): save it again. File: ${file}`, err)
    }
  }

  async list(): Promise<string[]> {
    try {
      return fs
        .readdirSync(await this.dir())
        .filter((f) => f.endsWith('.json') && !f.startsWith('__'))
        .map((f) => f.slice(0, -5))
        .sort()
    } catch {
      return []
    }
  }

  async drop(name: string): Promise<boolean> {
    const file = await this.file(name)
    const existed = fs.existsSync(file)
    fs.rmSync(file, { force: true })
    return existed
  }
}
