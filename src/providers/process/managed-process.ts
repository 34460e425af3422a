// A child process rig owns: its own process group (so signals reach its children too), logs
// captured, exit observed, and controls for stop, kill, pause and resume. The group outlives
// its leader: a shell line `sleep 300 & echo seeded` or a wrapper that exits leaves children in
// it, so stop and kill act on the group while it has a live member, leader gone or not.
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { groupAlive, isOurGroup, procInfo } from '../../env/proc.ts'
import { descendants, type ProcessId, signalProcess } from './descendants.ts'
import type { LogBuffer } from './log-buffer.ts'
import type { ServiceUser } from './user.ts'
import { ipBinary } from '../../hosts/ip.ts'

/** What to run. */
export interface SpawnSpec {
  command: string
  args: readonly string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Run as this user (when rig is root). */
  user?: ServiceUser | undefined
  /** Signal for a graceful stop. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals
  /** How long a graceful stop may take before SIGKILL. @default 5000 */
  stopGraceMs?: number
  /** Run inside this network namespace (a host's), entered through `ip netns exec` as root. */
  netns?: string | undefined
}

/**
 * Command and arguments that run `spec` inside its namespace: `ip netns exec` (root), then
 * `setpriv` down to the service user before the command itself. The process keeps its pid through
 * both execs, so its group and identity are the command's.
 */
function inNamespace(spec: SpawnSpec, ipBin: string): [string, string[]] {
  const drop = spec.user ? ['setpriv', `--reuid=${spec.user.uid}`, `--regid=${spec.user.gid}`, '--clear-groups', '--'] : []
  return [ipBin, ['netns', 'exec', spec.netns as string, ...drop, spec.command, ...spec.args]]
}

/** How a process ended. */
export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the process could not be spawned at all. */
  error?: Error
}

/** A running child process in its own process group. */
export class ManagedProcess {
  readonly pid: number
  readonly spec: SpawnSpec
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>
  /**
   * Resolves once the process runs, with `undefined`, or with the error that kept it from
   * starting (no such command, missing cwd, not executable). Never rejects.
   */
  readonly spawned: Promise<Error | undefined>
  exit: ExitInfo | undefined
  private readonly child: ChildProcess | undefined
  /** Descendants stopped by {@link pause}, outside the group or not. */
  private frozen: ProcessId[] = []
  /** The leader's start time and uid: once it is gone, what tells its group from a new one that reuses the id. */
  private identity: { startTime: number; uid: number } | undefined

  constructor(spec: SpawnSpec, logs: LogBuffer) {
    this.spec = spec
    let child: ChildProcess
    const ipBin = spec.netns ? ipBinary() : undefined
    try {
      if (spec.netns && !ipBin) throw new Error(`cannot enter network namespace ${spec.netns}: iproute2 (\`ip\`) is not installed`)
      const [command, args] = spec.netns ? inNamespace(spec, ipBin as string) : [spec.command, [...spec.args]]
      child = spawn(command, args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(spec.user && !spec.netns ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
      })
    } catch (err) {
      // Some spawn failures (ENOTDIR for a cwd that is a file, E2BIG…) throw instead of emitting 'error'.
      const error = err instanceof Error ? err : new Error(String(err))
      this.exit = { code: null, signal: null, error }
      logs.push('rig', `could not start ${spec.command}: ${error.message}`)
      this.pid = -1
      this.exited = Promise.resolve(this.exit)
      this.spawned = Promise.resolve(error)
      return
    }
    this.child = child
    this.pid = child.pid ?? -1
    // spawn() returns after exec: the leader (a zombie at worst, reaped only later by the event
    // loop) shows its final uid and start time.
    const info = this.pid > 0 ? procInfo(this.pid) : undefined
    // In a namespace the leader is still root (`ip`, then `setpriv`) for a moment: it ends as the service user.
    if (info) this.identity = { startTime: info.startTime, uid: spec.netns ? (spec.user?.uid ?? info.uid) : info.uid }
    if (child.stdout) logs.attach(child.stdout, 'stdout')
    if (child.stderr) logs.attach(child.stderr, 'stderr')
    this.spawned = new Promise((resolve) => {
      child.once('spawn', () => resolve(undefined))
      child.once('error', (error) => resolve(this.pid > 0 ? undefined : error))
    })
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.exit = { code: null, signal: null, error }
        logs.push('rig', `could not start ${spec.command}: ${error.message}`)
        resolve(this.exit)
      })
      // 'close' waits for stdout and stderr to end, which children the leader left in its
      // group (`sleep 300 & echo seeded`) hold open: the leader's exit counts, once its own
      // last lines were read ('close', or a moment after 'exit' when children keep the pipes).
      let timer: NodeJS.Timeout | undefined
      const done = (): void => {
        clearTimeout(timer)
        resolve(this.exit as ExitInfo)
      }
      child.once('exit', (code, signal) => {
        this.exit ??= { code, signal }
        timer = setTimeout(done, 100)
      })
      child.once('close', (code, signal) => {
        this.exit ??= { code, signal }
        done()
      })
    })
    // The child must not keep rig's event loop alive on its own, nor die with it silently.
    child.unref()
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.()
  }

  /** The uid the process runs as once started (what a record of it must name). */
  get uid(): number | undefined {
    return this.identity?.uid
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined && this.pid > 0
  }

  /**
   * True while the process group has a live member: the leader, or children it left behind
   * (verified to be its own, not a new group that reuses the id).
   */
  get groupRunning(): boolean {
    return this.running || (this.identity !== undefined && isOurGroup({ pid: this.pid, ...this.identity }))
  }

  /** Sends a signal to the whole process group, leader gone or not; ignores a group that is already gone. */
  signal(sig: NodeJS.Signals): void {
    if (this.pid <= 0) return
    if (!this.running) {
      if (!this.groupRunning) return
      try {
        process.kill(-this.pid, sig)
      } catch {
        // group empty
      }
      return
    }
    try {
      process.kill(-this.pid, sig)
    } catch {
      try {
        process.kill(this.pid, sig)
      } catch {
        // already gone
      }
    }
  }

  /** Graceful stop with the spec's signal (or `sig`), then SIGKILL after the grace period. */
  async stop(graceMs = this.spec.stopGraceMs ?? 5000, sig: NodeJS.Signals = this.spec.stopSignal ?? 'SIGTERM'): Promise<ExitInfo> {
    if (!this.groupRunning) return this.exited
    const leaderGone = !this.running
    // A stopped process only acts on its stop signal once continued.
    if (this.frozen.length > 0) this.resume()
    this.signal(sig)
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    const info = await this.exited
    // Leader gone before the stop: its children get the grace period the leader would have had.
    if (leaderGone) await this.groupGone(graceMs)
    clearTimeout(timer)
    // Children that ignored the signal must not outlive their leader.
    await this.killGroup()
    return info
  }

  /** SIGKILL to the whole group (leader gone or not), and to descendants a pause froze (stopped, they would never notice). */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL')
    for (const p of this.frozen) signalProcess(p, 'SIGKILL')
    this.frozen = []
    const info = await this.exited
    await this.killGroup()
    return info
  }

  /** SIGKILLs what is left of the group and waits (up to 2 s) until no live member remains. */
  private async killGroup(): Promise<void> {
    if (!this.groupRunning) return
    try {
      process.kill(-this.pid, 'SIGKILL')
    } catch {
      return
    }
    await this.groupGone(2000)
  }

  private async groupGone(ms: number): Promise<boolean> {
    const end = Date.now() + ms
    while (groupAlive(this.pid) && this.groupRunning) {
      if (Date.now() > end) return false
      await sleep(5)
    }
    return true
  }

  /**
   * SIGSTOP to the group, then to every descendant, also those that left the group (PostgreSQL
   * backends call setsid()): connections already open freeze too, as on a hung machine.
   * Returns the frozen descendants: a watchdog must kill them by pid if rig dies meanwhile.
   */
  pause(): ProcessId[] {
    if (!this.running) return []
    // The group first: a stopped leader forks nothing new while the tree is walked.
    this.signal('SIGSTOP')
    const seen = new Set(this.frozen.map((p) => p.pid))
    // A child forked just before its parent stopped appears in the next walk.
    for (let round = 0; round < 5; round++) {
      const fresh = descendants(this.pid).filter((p) => !seen.has(p.pid))
      if (fresh.length === 0) break
      for (const p of fresh) {
        seen.add(p.pid)
        if (signalProcess(p, 'SIGSTOP')) this.frozen.push(p)
      }
    }
    return [...this.frozen]
  }

  /** SIGCONT to every process {@link pause} stopped, then to the group. */
  resume(): void {
    const frozen = this.frozen
    this.frozen = []
    for (const p of frozen) signalProcess(p, 'SIGCONT')
    this.signal('SIGCONT')
  }
}
