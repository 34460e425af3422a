// Every environment records, in its own private temp dir, who owns it and which process
// groups it started. The watchdog and the sweep at the next start read it to kill what a dead
// owner left behind and remove its files. Only this user's temp root is read (verified before
// use), only files this user wrote are believed, and a group is killed only while it is
// verifiably the one recorded (start time and uid, see proc.ts). A group stays recorded until
// it is empty: a leader that exits (a one-shot `sleep 300 & echo seeded`, a wrapper) does not
// take its children's record with it.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { ensurePrivateDir, verifyPrivateDir } from '../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../fs-safe/private-file.ts'
import { tempDir } from '../fs-safe/temp-root.ts'
import { groupAlive, isAlive, isOurGroup, killGroup, procInfo, type GroupRecord } from './proc.ts'
import { removeHostsOf, sweepStaleHosts } from '../hosts/sweep.ts'

/** Content of `owner.json`. */
export interface OwnerRecord {
  pid: number
  startTime?: number | undefined
  uid?: number | undefined
  createdAt: string
  /** The project whose `.rig/state.json` publishes this environment (`rig up`, `rig run`). */
  project?: string | undefined
}

/** One recorded process group (or a lone process a pause froze). */
interface ProcessRecord extends GroupRecord {
  service: string
}

/** Directory that holds one subdirectory per live environment (this user's, verified). */
export function envsRoot(): string {
  return tempDir('envs')
}

/** Environment ids are rig's own: `<time>-<pid>-<hex>`. */
const ID = /^[a-z0-9]+-\d+-[0-9a-f]+$/

/**
 * The dir of environment `id`, verified: a private directory of this user directly below
 * {@link envsRoot}. Undefined when it does not exist; throws when it is not rig's.
 */
export function envDirOf(id: string): string | undefined {
  if (!ID.test(id)) return undefined
  const dir = path.join(envsRoot(), id)
  try {
    verifyPrivateDir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return dir
}

function readJson<T>(file: string): T | undefined {
  try {
    const text = readOwnFile(file)
    return text === undefined ? undefined : (JSON.parse(text) as T)
  } catch {
    return undefined
  }
}

/** The owner record of a verified environment dir, if readable. */
export function readOwner(dir: string): OwnerRecord | undefined {
  return readJson<OwnerRecord>(path.join(dir, 'owner.json'))
}

/** Records this process as the owner of `dir`. */
function writeOwner(dir: string, project?: string): void {
  const self = procInfo(process.pid)
  const owner: OwnerRecord = { pid: process.pid, startTime: self?.startTime, uid: self?.uid, createdAt: new Date().toISOString(), project }
  writePrivateFile(path.join(dir, 'owner.json'), JSON.stringify(owner))
}

/**
 * Temp dirs of a run that hold no processes, below `<temp root>/<kind>`, removed by
 * {@link sweepStale} once their owner died: the guard host's socket (`guard`), the verdicts the
 * workers of a Jest, node:test or Playwright run record for its reporter (`runs`).
 */
const OWNED_KINDS = ['guard', 'runs'] as const

/**
 * A new private directory below `<temp root>/<kind>` owned by this process (`owner.json`, its
 * name an environment-like id). Its owner removes it when done; when the owner dies first
 * (SIGKILL), the next start's {@link sweepStale} does.
 */
export function ownedTempDir(kind: (typeof OWNED_KINDS)[number]): string {
  const dir = path.join(tempDir(kind), `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`)
  fs.mkdirSync(dir, { mode: 0o700 })
  ensurePrivateDir(dir)
  writeOwner(dir)
  return dir
}

/** The pid in a rig id (`<time>-<pid>-<hex>`, or a stopped environment's `<id>.removed`). */
function pidOfId(name: string): number | undefined {
  const id = name.replace(/\.removed$/, '')
  return ID.test(id) ? Number(id.split('-')[1]) : undefined
}

/**
 * Whether `dir` is a private dir of this user whose owner died: its owner.json names a process
 * that is gone; or it has none (a dir being made right now, or one whose removal was cut short)
 * and the pid its name carries is gone, or it is over a minute old.
 */
function abandoned(dir: string): boolean {
  try {
    verifyPrivateDir(dir)
  } catch {
    return false
  }
  const owner = readOwner(dir)
  if (owner) return !isAlive(owner.pid, owner.startTime)
  const pid = pidOfId(path.basename(dir))
  if (pid !== undefined && !isAlive(pid)) return true
  return Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= 60_000
}

/** Removes the {@link ownedTempDir}s whose owner died; returns how many. */
function sweepOwnedTempDirs(): number {
  let removed = 0
  for (const kind of OWNED_KINDS) {
    const root = tempDir(kind)
    for (const e of fs.readdirSync(root)) {
      const dir = path.join(root, e)
      if (!ID.test(e) || !abandoned(dir)) continue
      fs.rmSync(dir, { recursive: true, force: true })
      removed++
    }
  }
  return removed
}

/** The process registry of one environment. */
export class Registry {
  readonly dir: string
  private processes: ProcessRecord[] = []

  /** Makes `dir` (private, below {@link envsRoot}) and records this process as its owner. */
  constructor(dir: string, project?: string) {
    this.dir = ensurePrivateDir(dir)
    writeOwner(dir, project)
  }

  /**
   * Records a process group the environment started (or a process a pause froze); `uid` is
   * the one it ends up with when it still changes (a service started in a host's namespace).
   */
  add(service: string, pid: number, uid?: number): void {
    const info = procInfo(pid)
    this.processes.push({ service, pid, startTime: info?.startTime, uid: uid ?? info?.uid })
    this.flush()
  }

  /** Forgets a recorded process (a frozen one that was resumed). */
  remove(pid: number): void {
    this.processes = this.processes.filter((p) => p.pid !== pid)
    this.flush()
  }

  /** Forgets a process group once it is empty; a group whose leader exited before its children stays recorded. */
  release(pid: number): void {
    const rec = this.processes.find((p) => p.pid === pid)
    if (rec && !(groupAlive(pid) && isOurGroup(rec))) this.remove(pid)
  }

  private flush(): void {
    try {
      writePrivateFile(path.join(this.dir, 'processes.json'), JSON.stringify(this.processes))
      // The same groups as lines the watchdog's shell reads when Node cannot reap (watchdog.ts).
      writePrivateFile(path.join(this.dir, 'groups'), this.processes.map((p) => `${p.pid} ${p.startTime ?? '-'} ${p.uid ?? '-'}\n`).join(''))
    } catch {
      // The environment was stopped and its dir removed meanwhile: nothing left to record.
    }
  }
}

/**
 * Kills every recorded process group of environment dir `dir` that is still rig's, and removes
 * the dir, and `<dir>.removed` (a stopped environment's dir whose removal in the background was
 * cut short: its owner exited or was killed meanwhile). Refuses (kills nothing, removes nothing)
 * a dir that is not a private directory of this user directly below {@link envsRoot}. Returns
 * what was killed. Only for a dir whose owner is gone.
 */
export function reap(dir: string): number {
  let killed = reapDir(dir)
  if (!dir.endsWith('.removed') && fs.lstatSync(`${dir}.removed`, { throwIfNoEntry: false })) killed += reapDir(`${dir}.removed`)
  return killed
}

function reapDir(dir: string): number {
  const root = envsRoot()
  // A stopped environment's dir being removed in the background is `<id>.removed`.
  if (path.dirname(path.resolve(dir)) !== root || !ID.test(path.basename(dir).replace(/\.removed$/, ''))) return 0
  try {
    verifyPrivateDir(dir)
  } catch {
    return 0
  }
  let killed = 0
  for (const p of readJson<ProcessRecord[]>(path.join(dir, 'processes.json')) ?? []) if (Number.isInteger(p.pid) && p.pid > 1 && killGroup(p)) killed++
  // Its hosts (network namespaces, bridge): named after its id.
  removeHostsOf(path.basename(dir).replace(/\.removed$/, ''))
  fs.rmSync(dir, { recursive: true, force: true })
  return killed
}

/**
 * Cleans up environments whose owner died without stopping them (SIGKILL, OOM, power cut,
 * watchdog killed too). Only this user's verified temp root is looked at; an entry that is not
 * a private dir of this user is left alone. Returns the numbers removed.
 */
export function sweepStale(): { environments: number; processes: number } {
  let environments = 0
  let processes = 0
  const root = envsRoot()
  for (const e of fs.readdirSync(root)) {
    const dir = path.join(root, e)
    if (!abandoned(dir)) continue
    processes += reap(dir)
    environments++
  }
  // Hosts whose environment's dir is gone (or lives in another temp root) and whose owner died.
  sweepStaleHosts()
  // Run dirs without processes (the guard host's socket) whose owner died.
  sweepOwnedTempDirs()
  return { environments, processes }
}

/** Verified dirs of live or dead environments that `project` published (to find them when its state file is damaged). */
export function environmentsOf(project: string): Array<{ dir: string; owner: OwnerRecord }> {
  const out: Array<{ dir: string; owner: OwnerRecord }> = []
  let root: string
  try {
    root = envsRoot()
  } catch {
    return out
  }
  for (const e of fs.readdirSync(root)) {
    try {
      const dir = envDirOf(e)
      const owner = dir ? readOwner(dir) : undefined
      if (dir && owner?.project === project) out.push({ dir, owner })
    } catch {
      // not rig's: left alone
    }
  }
  return out
}
