// Every environment records, in its own temp dir, who owns it and which process groups it
// started. The watchdog and the sweep at the next start read it to kill what a dead owner
// left behind and remove its files.
import fs from 'node:fs'
import path from 'node:path'
import { tempRoot } from '../providers/process/cache-dir.ts'
import { isAlive, killGroup, processStartTime } from './proc.ts'

/** Content of `owner.json`. */
interface OwnerRecord {
  pid: number
  startTime?: number | undefined
  createdAt: string
}

/** One recorded process group. */
interface ProcessRecord {
  pid: number
  startTime?: number | undefined
  service: string
}

/** Directory that holds one subdirectory per live environment. */
export function envsRoot(): string {
  return path.join(tempRoot(), 'envs')
}

/** The process registry of one environment. */
export class Registry {
  readonly dir: string
  private processes: ProcessRecord[] = []

  constructor(dir: string) {
    this.dir = dir
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
    const owner: OwnerRecord = { pid: process.pid, startTime: processStartTime(process.pid), createdAt: new Date().toISOString() }
    fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner))
  }

  /** Records a process group the environment started. */
  add(service: string, pid: number): void {
    this.processes.push({ service, pid, startTime: processStartTime(pid) })
    this.flush()
  }

  /** Forgets a process group that has exited. */
  remove(pid: number): void {
    this.processes = this.processes.filter((p) => p.pid !== pid)
    this.flush()
  }

  private flush(): void {
    const file = path.join(this.dir, 'processes.json')
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(this.processes))
    fs.renameSync(`${file}.tmp`, file)
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** Kills every recorded process group of an environment dir and removes the dir. Returns what was killed. */
export function reap(dir: string): number {
  let killed = 0
  for (const p of readJson<ProcessRecord[]>(path.join(dir, 'processes.json')) ?? []) if (killGroup(p.pid, p.startTime)) killed++
  fs.rmSync(dir, { recursive: true, force: true })
  return killed
}

/**
 * Cleans up environments whose owner died without stopping them (SIGKILL, OOM, power cut,
 * watchdog killed too). Returns the number of environments removed.
 */
export function sweepStale(): { environments: number; processes: number } {
  let environments = 0
  let processes = 0
  let entries: string[]
  try {
    entries = fs.readdirSync(envsRoot())
  } catch {
    return { environments, processes }
  }
  for (const e of entries) {
    const dir = path.join(envsRoot(), e)
    const owner = readJson<OwnerRecord>(path.join(dir, 'owner.json'))
    if (owner && isAlive(owner.pid, owner.startTime)) continue
    if (!owner) {
      // A dir being created right now has no owner.json yet; only reap old ones.
      const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0)
      if (age < 60_000) continue
    }
    processes += reap(dir)
    environments++
  }
  return { environments, processes }
}
