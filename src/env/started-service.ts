// A service of a started environment: its address, logs, timeline and controls. Boot (launch
// then wait for readiness) lives here so that `restart()` reuses exactly the start-up path.
import { AbortedError, describeError, ReadinessTimeoutError, RigError, ServiceCrashedError } from '../errors.ts'
import type { Probe, ProbeTarget } from '../probes/probe.ts'
import { waitFor } from '../probes/retry.ts'
import { formatLogLine, type LogBuffer, type LogLine } from '../providers/process/log-buffer.ts'
import type { ExitInfo, ManagedProcess } from '../providers/process/managed-process.ts'
import { readinessError, spawnError } from './start-failure.ts'
import type { Launched, RestartChange, ServiceAddress } from '../services/service-kind.ts'
import type { EnvEventListener } from './events.ts'
import { keepAlive } from './keep-alive.ts'
import type { Registry } from './registry.ts'
import type { ServiceState } from './state.ts'
import { MemberGroup, type MemberState } from './members.ts'
import type { Topology } from '../topology/topology.ts'

/** Lifecycle of a started service. */
export type ServiceStatus = 'starting' | 'ready' | 'completed' | 'paused' | 'stopped' | 'exited' | 'failed'

/** When things happened, in ms since the environment started. */
export interface ServiceTimeline {
  dependsOn: string[]
  /** Its dependencies were satisfied and it began starting. */
  startingAt?: number
  /** Its process was spawned. */
  startedAt?: number
  readyAt?: number
  completedAt?: number
}

/** What the environment hands a service to boot it. */
export interface BootParams {
  launched: Launched
  probes: readonly Probe[]
  readyTimeoutMs: number
  registry: Registry
  emit: EnvEventListener
  /** `performance.now()` when the environment started. */
  t0: number
  /** Builds a new version of the service (`restart({ run, env })`); absent for kinds that take none. */
  relaunch?: (change: RestartChange, signal: AbortSignal) => Promise<{ launched: Launched; probes: Probe[]; commit: () => void }>
  /** Checks a new version's options as the config's are (throws a ConfigError). */
  checkChange?: (change: RestartChange) => void
}

/** What a change of version says in logs and errors. */
function describeChange(change: RestartChange): string {
  const parts: string[] = []
  if (change.run !== undefined) parts.push(`run: ${typeof change.run === 'string' ? change.run : change.run.join(' ')}`)
  if (change.env) parts.push(`env: ${Object.keys(change.env).join(', ')}`)
  return parts.join('; ') || 'no change'
}

const LOG_TAIL = 20

/** A topology's nodes as members (`node0`, `node1`…), for `rig status --json` and `members()`. */
function topologyMembers(t: Topology): MemberState[] {
  return t.nodes().map((n) => ({ name: `node${n.node}`, role: n.role === 'down' ? 'replica' : n.role, host: n.host, port: n.port, pid: n.pid, status: n.role === 'down' ? 'stopped' : 'running' }))
}

/** Waits for `proc` to exit, at most `ms`. */
async function exitWithin(proc: ManagedProcess, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
}

/** A running (or stopped) service of an environment. */
export class StartedService implements ServiceAddress, ProbeTarget {
  readonly name: string
  readonly kind: string
  readonly dir: string
  readonly logs: LogBuffer
  readonly timeline: ServiceTimeline
  status: ServiceStatus = 'starting'
  provider = ''
  host = ''
  port = 0
  url = ''
  env: Record<string, string> = {}
  /** Time from the environment's start until this service was ready. */
  readyMs: number | undefined
  private params: BootParams | undefined
  private proc: ManagedProcess | undefined
  private expectExit = false
  private completion: Promise<void> | undefined
  private bootLogCount = 0
  /** Processes of a paused service recorded in the registry besides the group leader. */
  private frozenPids: number[] = []
  /** The processes of a service that runs several (`Launched.members`). */
  private group: MemberGroup | undefined

  constructor(name: string, kind: string, dir: string, logs: LogBuffer, dependsOn: string[]) {
    this.name = name
    this.kind = kind
    this.dir = dir
    this.logs = logs
    this.timeline = { dependsOn }
  }

  /** Its members and their roles, when it has some (PostgreSQL replicas). */
  get topology(): Topology | undefined {
    return this.params?.launched.topology
  }

  /** The pid of the service's process (its process group leader), if rig runs it. */
  get pid(): number | undefined {
    if (this.group) return this.group.pidOf('master') ?? this.group.pidOf()
    return this.proc?.running ? this.proc.pid : undefined
  }

  /** The processes of a service that runs several, undefined for one that runs one. */
  get members(): MemberGroup | undefined {
    return this.group
  }

  /** Log lines of the current run of the process (not those before a restart), for probes. */
  logLines(): readonly string[] {
    return this.logs.texts(this.bootLogCount)
  }

  /** The last `n` log lines, formatted. */
  logTail(n = LOG_TAIL): string[] {
    return this.logs.tail(n).map(formatLogLine)
  }

  /** Subscribes to new log lines. */
  onLog(fn: (line: LogLine) => void): () => void {
    return this.logs.onLine(fn)
  }

  private since(t0: number): number {
    return performance.now() - t0
  }

  /** Launches the process and waits for readiness. Used by the environment and by {@link restart}. */
  async boot(params: BootParams, signal: AbortSignal): Promise<void> {
    this.params = params
    const { launched, emit, t0 } = params
    Object.assign(this, { host: launched.host, port: launched.port, url: launched.url, provider: launched.provider })
    this.status = 'starting'
    const bootStart = performance.now()
    this.bootLogCount = this.logs.count
    const proc = launched.launch?.()
    this.proc = proc
    this.expectExit = false
    // A process that never ran must fail the start, not be "ready" because it has no probe.
    const spawnFailed = proc ? await proc.spawned : undefined
    if (proc && spawnFailed) {
      this.status = 'failed'
      throw spawnError(this.name, this.kind, proc.spec, spawnFailed)
    }
    let memberExit: Promise<ExitInfo> | undefined
    if (launched.members) {
      this.group ??= new MemberGroup(this.name, this.kind, this.logs, params.registry)
      memberExit = this.group.exitDuringBoot().then((e) => e.info)
      try {
        await this.group.launchAll(launched.members)
      } catch (err) {
        this.status = 'failed'
        throw err
      }
    }
    if (proc) {
      if (proc.pid > 0) params.registry.add(this.name, proc.pid, proc.uid)
      void proc.exited.then((info) => this.onExit(proc, info))
      this.completion = proc.exited.then((info) => {
        if (info.code !== 0) throw this.crashError(info, bootStart)
      })
      this.completion.catch(() => {})
    }
    this.timeline.startedAt ??= this.since(t0)
    emit({ type: 'started', service: this.name, at: this.since(t0), ...(proc ? { pid: proc.pid } : {}) })

    const ctl = new AbortController()
    const onAbort = (): void => ctl.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const waiting = waitFor(params.probes, {
        deadlineMs: params.readyTimeoutMs,
        signal: ctl.signal,
        target: this,
        onAttempt: (probe, attempt, r) => emit({ type: 'probing', service: this.name, at: this.since(t0), probe, attempt, ...(r.detail ? { detail: r.detail } : {}) }),
      }).then((outcome) => ({ outcome }))
      const exit = proc?.exited ?? memberExit
      const exited = exit ? exit.then((info) => ({ exit: info })) : new Promise<never>(() => {})
      const first = await Promise.race([waiting, exited])
      if ('exit' in first) {
        ctl.abort()
        // A one-shot task without readiness probes that finished successfully is complete.
        if (first.exit.code === 0 && (params.probes.length === 0 || launched.completesOnExit)) return this.markReady()
        throw this.crashError(first.exit, bootStart)
      }
      const o = first.outcome
      if (!o.ok) {
        if (o.stoppedBy === 'aborted') throw new AbortedError(`starting "${this.name}"`, signal.reason)
        throw readinessError({ name: this.name, host: this.host, port: this.port, logs: this.logs, pid: this.pid, external: !launched.launch, logTail: () => this.logTail() }, o, params.readyTimeoutMs)
      }
      this.markReady()
    } catch (err) {
      this.status = 'failed'
      throw err
    } finally {
      this.group?.booted()
      signal.removeEventListener('abort', onAbort)
      ctl.abort()
    }
  }

  private markReady(): void {
    const p = this.params
    if (!p) return
    this.timeline.readyAt ??= this.since(p.t0)
    this.readyMs ??= this.since(p.t0)
    if (this.status === 'starting') this.status = 'ready'
    p.emit({ type: 'ready', service: this.name, at: this.since(p.t0), readyMs: this.readyMs, url: this.url })
  }

  private crashError(info: ExitInfo, bootStart: number): ServiceCrashedError {
    const tail = this.logTail()
    const hint = this.params?.launched.crashHint?.(tail.map((l) => l))
    return new ServiceCrashedError({ service: this.name, elapsedMs: performance.now() - bootStart, exitCode: info.code, signal: info.signal, logTail: tail }, hint)
  }

  private onExit(proc: ManagedProcess, info: ExitInfo): void {
    // Children the leader left in its group keep the record until they are gone too.
    this.params?.registry.release(proc.pid)
    if (proc !== this.proc) return
    const p = this.params
    if (info.code === 0 && !this.expectExit && (this.status === 'ready' || this.status === 'starting')) {
      this.status = 'completed'
      if (p) {
        this.timeline.completedAt = this.since(p.t0)
        p.emit({ type: 'completed', service: this.name, at: this.since(p.t0) })
      }
      return
    }
    if (this.expectExit) return
    if (this.status === 'ready' || this.status === 'paused') {
      this.status = 'exited'
      this.logs.push('rig', `process exited unexpectedly (${info.signal ?? `code ${info.code}`})`)
      p?.emit({ type: 'exited', service: this.name, at: this.since(p.t0), code: info.code, signal: info.signal })
    }
  }

  /**
   * Resolves when a one-shot service exited 0; rejects with its crash when it exited otherwise,
   * after `timeoutMs`, or when `signal` aborts (another service failed to start).
   */
  async waitCompleted(timeoutMs: number, waiter: string, signal?: AbortSignal): Promise<void> {
    if (!this.completion) return
    let timer: NodeJS.Timeout | undefined
    let onAbort = (): void => {}
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReadinessTimeoutError({ service: this.name, elapsedMs: timeoutMs, logTail: this.logTail(), lastError: `"${waiter}" waits for it to complete, but it is still running` }, timeoutMs, `if it only needs longer, raise its \`readyTimeout\`; if it never exits, let "${waiter}" wait for it to be \`ready\` instead of \`completed\``)),
        timeoutMs,
      )
      timer.unref()
      onAbort = (): void => reject(new AbortedError(`"${waiter}" waiting for "${this.name}" to complete`, signal?.reason))
      if (signal?.aborted) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([this.completion, timeout])
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Stops the service gracefully (its kind's stop signal, then SIGKILL after a grace period).
   * `teardown`: the environment is going away with the service's data, so the kind's
   * `teardownSignal` (when it has one) replaces the clean stop.
   */
  stop(options: { teardown?: boolean } = {}): Promise<void> {
    return keepAlive(this.doStop(options.teardown === true))
  }

  private note(type: 'stopping' | 'stopped' | 'paused' | 'resumed'): void {
    const p = this.params
    if (p) p.emit({ type, service: this.name, at: this.since(p.t0) })
  }

  private async doStop(teardown: boolean): Promise<void> {
    await this.stopProcess(teardown)
    // The other members of a topology (replicas) go with it.
    await this.params?.launched.topology?.stop(teardown)
  }

  private async stopProcess(teardown: boolean): Promise<void> {
    if (this.group) {
      if (this.status !== 'stopped') this.note('stopping')
      await this.group.stop(teardown)
      if (teardown) await this.params?.launched.cleanup?.().catch(() => {})
      const was = this.status
      this.status = 'stopped'
      if (was !== 'stopped') this.note('stopped')
      return
    }
    if (!this.proc?.running) {
      // A leader that exited (a one-shot `sleep 300 & echo seeded`, a wrapper) may have left
      // children in its group: they stop with the service.
      if (this.proc?.groupRunning) {
        await this.proc.stop()
        this.params?.registry.release(this.proc.pid)
      }
      if (this.status !== 'completed') this.status = 'stopped'
      return
    }
    this.expectExit = true
    this.note('stopping')
    if (this.status === 'paused') this.proc.resume()
    this.forgetFrozen()
    const sig = teardown ? this.params?.launched.teardownSignal : undefined
    const ask = this.params?.launched.requestStop
    if (ask && (await ask(teardown).then(() => true, () => false))) await exitWithin(this.proc, 1000)
    await (sig ? this.proc.stop(undefined, sig) : this.proc.stop())
    this.params?.registry.release(this.proc.pid)
    if (this.status !== 'completed') this.status = 'stopped'
    this.note('stopped')
  }

  /**
   * Throws a usage error when `action` cannot apply: rig does not run an external service, and
   * only a running process can be paused or resumed.
   */
  assertControllable(action: 'stop' | 'kill' | 'restart' | 'pause' | 'resume'): void {
    if (this.params && !this.params.launched.launch && !this.params.launched.members) {
      throw new RigError('RIG_NOT_CONTROLLABLE', `service "${this.name}" is external: rig does not run it, so it cannot ${action} it`, { exitCode: 2 })
    }
    if ((action === 'pause' || action === 'resume') && (this.group || !this.proc?.running)) {
      if (this.group) throw new RigError('RIG_NOT_SUPPORTED', `service "${this.name}" runs several processes (${this.group.names.join(', ')}): ${action} is for a service of one process`, { exitCode: 2 })
      throw new RigError('RIG_NOT_RUNNING', `service "${this.name}" is not running (${this.status}): start it with \`rig restart ${this.name}\``, { exitCode: 2 })
    }
  }

  /**
   * SIGKILLs the service's whole process group: a crash, for failover tests. For a service of
   * several processes, `member` (a name such as `replica1`, or a role such as `master`) kills
   * that one only, and the others go on; without it every one is killed.
   */
  async kill(member?: string): Promise<void> {
    this.assertControllable('kill')
    if (this.group) {
      const killed = await keepAlive(this.group.kill(member))
      this.logs.push('rig', `killed ${killed.join(', ')}`)
      if (member === undefined) {
        this.status = 'stopped'
        this.note('stopped')
      }
      return
    }
    if (member !== undefined) throw new RigError('RIG_UNKNOWN_MEMBER', `service "${this.name}" runs one process: kill it without naming a member`, { exitCode: 2 })
    if (!this.proc) return
    this.expectExit = true
    await keepAlive(this.proc.kill())
    this.params?.registry.release(this.proc.pid)
    this.forgetFrozen()
    this.status = 'stopped'
    this.note('stopped')
  }

  /**
   * Moves the master (primary) role to another member and resolves with its name once it is
   * seen as such: for Redis, `SENTINEL FAILOVER`.
   */
  async failover(signal: AbortSignal = new AbortController().signal): Promise<string> {
    const roles = this.params?.launched.roles
    if (!roles || this.status === 'stopped') {
      throw new RigError(
        'RIG_NO_FAILOVER',
        this.status === 'stopped' ? `service "${this.name}" is stopped: restart it before a failover` : `service "${this.name}" has no replica to fail over to: give it replicas (and, for Redis, sentinels), e.g. redis({ replicas: 1, sentinels: 3 })`,
        { exitCode: 2 },
      )
    }
    return keepAlive(roles.failover(signal))
  }

  /**
   * The service's process is now `proc`, the primary a topology promoted: the previous one's exit
   * is no longer the service's, and the service is ready again.
   */
  follow(proc: ManagedProcess | undefined): void {
    if (!proc || proc === this.proc) return
    this.proc = proc
    this.expectExit = false
    this.status = 'ready'
    void proc.exited.then((info) => this.onExit(proc, info))
  }

  /**
   * Stops, then boots again on the same port and data, waiting for readiness. With `change`, a
   * new version of a command (`run`, `env`) on the same address; when it does not get ready the
   * previous version is started again and a `RIG_RESTART_FAILED` error thrown. A service of
   * several instances is replaced one instance at a time, each new one ready before the old
   * one stops, so its address never refuses.
   */
  async restart(signal: AbortSignal = new AbortController().signal, change?: RestartChange): Promise<void> {
    if (!this.params) throw new RigError('RIG_NOT_RUNNING', `service "${this.name}" was never started`, { exitCode: 2 })
    this.assertControllable('restart')
    const p = this.params
    if (p.launched.topology) {
      throw new RigError('RIG_NOT_SUPPORTED', `service "${this.name}" has replicas: restart moves no role. Use switchover() (rig topology ${this.name} switchover) to restart its primary as a replica, or failover() and rejoin()`, { exitCode: 2 })
    }
    if (change && !p.relaunch) {
      throw new RigError('RIG_RESTART_INVALID', `service "${this.name}" (${this.kind}) takes no new run or env: only command() services do; restart it without them`, { exitCode: 2 })
    }
    if (change) p.checkChange?.(change)
    if (p.launched.redeploy && this.group) return keepAlive(this.roll(p, change, signal))
    if (change && p.relaunch) return keepAlive(this.replaceVersion(p, change, signal))
    await this.stop()
    this.logs.push('rig', 'restarting')
    this.readyMs = undefined
    const t0 = performance.now()
    await keepAlive(this.boot({ ...this.params, t0 }, signal))
  }

  /** One process replaced by a new version on the same address; the previous one back when it fails. */
  private async replaceVersion(p: BootParams, change: RestartChange, signal: AbortSignal): Promise<void> {
    const envBefore = this.env
    const next = await (p.relaunch as NonNullable<BootParams['relaunch']>)(change, signal)
    await this.stop()
    this.logs.push('rig', `restarting with a new version (${describeChange(change)})`)
    this.readyMs = undefined
    try {
      await this.boot({ ...p, launched: next.launched, probes: next.probes, t0: performance.now() }, signal)
      next.commit()
    } catch (err) {
      this.logs.push('rig', 'the new version did not get ready: starting the previous one again')
      await this.stop()
      this.env = envBefore
      this.readyMs = undefined
      await this.boot({ ...p, t0: performance.now() }, signal)
      throw new RigError('RIG_RESTART_FAILED', `the new version of service "${this.name}" (${describeChange(change)}) did not get ready: ${describeError(err)}\n  the previous version runs again on the same address; fix the new one and restart again (rig logs ${this.name})`, { cause: err })
    }
  }

  /** Replaces the instances one at a time: each new one ready before the old one stops. */
  private async roll(p: BootParams, change: RestartChange | undefined, signal: AbortSignal): Promise<void> {
    const redeploy = p.launched.redeploy as NonNullable<Launched['redeploy']>
    const group = this.group as MemberGroup
    this.logs.push('rig', `rolling restart${change ? ` with a new version (${describeChange(change)})` : ''}`)
    const done: string[] = []
    for (const name of group.names) {
      const old = group.specOf(name)
      const next = await redeploy.next(old, change)
      try {
        await group.replace(name, next, () => redeploy.ready(next, signal), () => redeploy.switchOver(old, next))
      } catch (err) {
        const kept = done.length === 0 ? 'every instance keeps running the previous version' : `${done.join(', ')} already run the new version, the others the previous one`
        throw new RigError('RIG_RESTART_FAILED', `the new ${name} of service "${this.name}"${change ? ` (${describeChange(change)})` : ''} did not get ready: ${describeError(err)}\n  it was stopped and ${name} kept; ${kept}. Fix it and restart again (rig logs ${this.name})`, { cause: err })
      }
      done.push(name)
      this.logs.push('rig', `${name} replaced: port ${old.port} → ${next.port}`)
    }
    redeploy.commit(change)
  }

  /** SIGSTOP to every process of the service: it freezes, and so do connections already open to it. */
  pause(): void {
    this.assertControllable('pause')
    const frozen = this.proc?.pause() ?? []
    // Were rig to die now, the watchdog must find them: they left the group, and stopped they
    // never notice their server is gone.
    for (const p of frozen) if (!this.frozenPids.includes(p.pid)) this.params?.registry.add(this.name, p.pid)
    this.frozenPids = frozen.map((p) => p.pid)
    this.status = 'paused'
    this.note('paused')
  }

  private forgetFrozen(): void {
    for (const pid of this.frozenPids) this.params?.registry.remove(pid)
    this.frozenPids = []
  }

  /** SIGCONT to every process {@link pause} stopped. */
  resume(): void {
    this.assertControllable('resume')
    this.proc?.resume()
    this.forgetFrozen()
    if (this.status === 'paused') this.status = 'ready'
    this.note('resumed')
  }

  /** Where the service is and how it is doing, as the state file and `rig status --json` show it. */
  state(): ServiceState {
    return {
      kind: this.kind,
      provider: this.provider,
      status: this.status,
      url: this.url,
      host: this.host,
      port: this.port,
      pid: this.pid ?? null,
      readyMs: this.readyMs === undefined ? null : Math.round(this.readyMs),
      env: this.env,
      logFile: this.logs.file,
      ...(this.group ? { members: this.group.state() } : this.topology ? { members: topologyMembers(this.topology) } : {}),
    }
  }

  /** A serialisable summary: {@link state} with the name and timeline. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, ...this.state(), timeline: this.timeline }
  }

}
