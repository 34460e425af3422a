// `postgres --version` is on the path of every start (the version is part of the init cache
// key): a fork + exec of the server binary, paid once per process. A test runner starts a
// process per worker, so the answer is also kept on disk, in rig's cache dir, keyed by the
// binary's path and what identifies its content there: device, inode, size, mtime and ctime
// (an upgrade replaces the file; an edit in place changes its size, mtime or ctime). A record
// that does not match, does not parse, is a link or not this user's file is ignored and written
// again (a fresh file renamed over it, never through a link).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { ensurePrivateDir } from '../../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../../fs-safe/private-file.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { run } from '../../providers/process/run.ts'

const memo = new Map<string, Promise<string>>()

/** What a cached answer was given for: the binary as it was then. */
interface VersionRecord {
  bin: string
  dev: number
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
  version: string
}

/** A version as `postgres --version` prints it, reduced to `15.20` / `9.6` / `17`. */
const VERSION = /^\d+(\.\d+)?$/

/** The directory of the records, private to rig's user; undefined when it cannot be made so. */
function versionsDir(): string | undefined {
  try {
    const parent = path.join(cacheRoot(), 'postgres')
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 })
    return ensurePrivateDir(path.join(parent, 'versions'))
  } catch {
    return undefined
  }
}

/** The record's file for `bin` (`<cache>/postgres/versions/<sha256 of the path>.json`). */
export function versionRecordFile(bin: string): string | undefined {
  const dir = versionsDir()
  return dir && path.join(dir, `${createHash('sha256').update(bin).digest('hex').slice(0, 16)}.json`)
}

function identity(bin: string): Omit<VersionRecord, 'version'> {
  const st = fs.statSync(bin)
  return { bin, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
}

function recorded(file: string, id: Omit<VersionRecord, 'version'>): string | undefined {
  let text: string | undefined
  try {
    text = readOwnFile(file)
  } catch {
    // a link, another user's file, not a regular file: not believed, replaced below
    return undefined
  }
  if (text === undefined) return undefined
  try {
    const r = JSON.parse(text) as Partial<VersionRecord>
    const same = (Object.keys(id) as (keyof typeof id)[]).every((k) => r[k] === id[k])
    return same && typeof r.version === 'string' && VERSION.test(r.version) ? r.version : undefined
  } catch {
    return undefined
  }
}

async function lookUp(bin: string): Promise<string> {
  let file: string | undefined
  let id: Omit<VersionRecord, 'version'> | undefined
  try {
    id = identity(bin)
    file = versionRecordFile(bin)
    const known = file && recorded(file, id)
    if (known) return known
  } catch {
    // no record to use: ask the binary
  }
  const out = (await run(bin, ['--version'])).trim()
  const version = out.match(/(\d+(?:\.\d+)?)/)?.[1] ?? out
  if (file && id && VERSION.test(version)) {
    try {
      // Only when the binary did not change while it ran.
      const after = identity(bin)
      if ((Object.keys(id) as (keyof typeof id)[]).every((k) => after[k] === id[k])) writePrivateFile(file, `${JSON.stringify({ ...id, version } satisfies VersionRecord)}\n`)
    } catch {
      // a cache: the next process asks the binary again
    }
  }
  return version
}

/** `postgres --version` (e.g. `15.20`), memoised per binary in this process and on disk across processes. */
export function postgresVersion(bin: string): Promise<string> {
  let v = memo.get(bin)
  if (!v) {
    v = lookUp(bin)
    memo.set(bin, v)
    // A failure is not remembered: the binary may be fixed by the next call.
    v.catch(() => memo.delete(bin))
  }
  return v
}

/** Forgets this process's answers (for tests: the next call reads the record on disk). */
export function forgetVersions(): void {
  memo.clear()
}
