// A child process rig owns: its own process group (so signals reach its children too), logs
// captured, exit observed, and controls for stop, kill, pause and resume.
import { spawn, type ChildProcess } from 'node:child_process'
import { descendants, type ProcessId, signalProcess } from './descendants.ts'
import type { LogBuffer } from './log-buffer.ts'
import type { ServiceUser } from './user.ts'

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

  constructor(spec: SpawnSpec, logs: LogBuffer) {
    this.spec = spec
    let child: ChildProcess
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
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
      child.once('close', (code, signal) => {
        this.exit ??= { code, signal }
        resolve(this.exit)
      })
    })
    // The child must not keep rig's event loop alive on its own, nor die with it silently.
    child.unref()
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.()
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined && this.pid > 0
  }

  /** Sends a signal to the whole process group; ignores a group that is already gone. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return
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
    if (!this.running) return this.exited
    // A stopped process only acts on its stop signal once continued.
    if (this.frozen.length > 0) this.resume()
    this.signal(sig)
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    const info = await this.exited
    clearTimeout(timer)
    // Children that ignored the signal must not outlive their leader.
    try {
      process.kill(-this.pid, 'SIGKILL')
    } catch {
      // group already empty
    }
    return info
  }

  /** SIGKILL to the whole group, and to descendants a pause froze (stopped, they would never notice). */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL')
    for (const p of this.frozen) signalProcess(p, 'SIGKILL')
    this.frozen = []
    return this.exited
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
