// A lock between rig processes that build the same cached directory (initdb, the MariaDB and
// RabbitMQ init caches): `<dir>.lock` made with mkdir (atomic), holding `owner.json` with the
// holder's pid and start time. A lock whose holder is dead (a run killed during its first
// initdb) is taken over at once, with the staging dirs it left (`<dir>.tmp-<pid>`); a lock
// without a readable owner (being made right now, or by an older rig) is stale after 10 s.
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAlive, procInfo } from '../../env/proc.ts'

interface Holder {
  pid: number
  startTime?: number | undefined
}

function holderOf(lockPath: string): Holder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(path.join(lockPath, 'owner.json'), 'utf8')) as Holder
    return Number.isInteger(h.pid) ? h : undefined
  } catch {
    return undefined
  }
}

/** Removes staging dirs `<dir>.tmp-<pid>` of builders that are gone (the caller holds the lock). */
function removeDeadStaging(dir: string): void {
  const parent = path.dirname(dir)
  const prefix = `${path.basename(dir)}.tmp-`
  let entries: string[] = []
  try {
    entries = fs.readdirSync(parent)
  } catch {
    return
  }
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue
    const pid = Number(e.slice(prefix.length))
    if (pid !== process.pid && !(Number.isInteger(pid) && isAlive(pid))) fs.rmSync(path.join(parent, e), { recursive: true, force: true })
  }
}

/** Takes the lock `<dir>.lock`, waiting for a live holder; returns its release. */
export async function lockDir(dir: string, staleMs = 120_000): Promise<() => void> {
  const lockPath = `${dir}.lock`
  const self: Holder = { pid: process.pid, startTime: procInfo(process.pid)?.startTime }
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lockPath)
      fs.writeFileSync(path.join(lockPath, 'owner.json'), JSON.stringify(self), { flag: 'wx', mode: 0o644 })
      removeDeadStaging(dir)
      return () => fs.rmSync(lockPath, { recursive: true, force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = holderOf(lockPath)
      const age = Date.now() - (fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      // No owner yet: being made this instant (microseconds), or left by a holder that died
      // right then or by an older rig (then the age limit).
      const dead = holder ? !isAlive(holder.pid, holder.startTime) : age > Math.min(staleMs, 10_000)
      if (dead) takeOver(lockPath, holder)
      else await sleep(Math.min(200, 10 * (i + 1)))
    }
  }
}

/** Removes a dead holder's lock unless it changed hands meanwhile (renamed aside first: one taker wins). */
function takeOver(lockPath: string, seen: Holder | undefined): void {
  const aside = `${lockPath}.stale-${process.pid}`
  try {
    fs.renameSync(lockPath, aside)
  } catch {
    return
  }
  const moved = holderOf(aside)
  if (moved?.pid !== seen?.pid || moved?.startTime !== seen?.startTime) {
    // A live holder's lock was moved by mistake: put it back (fails only if another took the place).
    try {
      fs.renameSync(aside, lockPath)
      return
    } catch {
      // fall through: the moved lock is gone for good, like its holder's chance
    }
  }
  fs.rmSync(aside, { recursive: true, force: true })
}

/**
 * The cache entry `dir`, filled once for every process of every user of the cache: when
 * `dir/ok` is missing, under the lock, `fill` builds the entry in a staging dir
 * (`<dir>.tmp-<pid>`, 0755) that is then renamed into place and marked ok. A fill that fails
 * leaves nothing behind. `onCold` is called before filling, so the caller can tell the user.
 */
export async function ensureCacheEntry(dir: string, fill: (staging: string) => Promise<void>, onCold?: () => void): Promise<void> {
  const ok = path.join(dir, 'ok')
  if (fs.existsSync(ok)) return
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 })
  const release = await lockDir(dir)
  const staging = `${dir}.tmp-${process.pid}`
  try {
    if (fs.existsSync(ok)) return
    onCold?.()
    fs.rmSync(dir, { recursive: true, force: true })
    fs.rmSync(staging, { recursive: true, force: true })
    fs.mkdirSync(staging, { mode: 0o755 })
    // Whatever the umask: the service's account (not rig's when rig is root) must traverse it.
    fs.chmodSync(staging, 0o755)
    await fill(staging)
    fs.renameSync(staging, dir)
    fs.writeFileSync(ok, new Date().toISOString())
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
    release()
  }
}
