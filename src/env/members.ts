// The processes of a service that runs several (a Redis master with its replicas and
// sentinels, the instances of a command): each in its own process group and recorded for the
// watchdog, stopped together in reverse start order, one of them killed or replaced on demand.
// A member that exits on its own is logged, not fatal: a topology is there to survive it.
import { RigError } from '../errors.ts'
import type { LogBuffer } from '../providers/process/log-buffer.ts'
import type { ExitInfo, ManagedProcess } from '../providers/process/managed-process.ts'
import type { MemberSpec } from '../services/service-kind.ts'
import type { Registry } from './registry.ts'
import { spawnError } from './start-failure.ts'

/** A member as `rig status --json` and tests see it. */
export interface MemberState {
  name: string
  role: string
  host: string
  port: number
  pid: number | null
  status: 'running' | 'stopped' | 'exited'
}

interface Running {
  spec: MemberSpec
  proc: ManagedProcess | undefined
  expectExit: boolean
  status: MemberState['status']
}

/** The members of one service. */
export class MemberGroup {
  private readonly members: Running[] = []
  private readonly service: string
  private readonly kind: string
  private readonly logs: LogBuffer
  private readonly registry: Registry
  private firstExit: ((e: { member: string; info: ExitInfo }) => void) | undefined

  constructor(service: string, kind: string, logs: LogBuffer, registry: Registry) {
    this.service = service
    this.kind = kind
    this.logs = logs
    this.registry = registry
  }

  /** Member names, in start order. */
  get names(): string[] {
    return this.members.map((m) => m.spec.name)
  }

  /** The pid of the first running member whose role is `role` (any role when undefined). */
  pidOf(role?: string): number | undefined {
    const m = this.members.find((r) => r.proc?.running && (role === undefined || r.spec.role === role))
    return m?.proc?.pid
  }

  /** Resolves with the first member that exits while {@link launchAll}'s caller waits for readiness. */
  exitDuringBoot(): Promise<{ member: string; info: ExitInfo }> {
    return new Promise((resolve) => (this.firstExit = resolve))
  }

  /** Stops watching for exits during boot: from now on an exit is only logged. */
  booted(): void {
    this.firstExit = undefined
  }

  /** Spawns every member of `specs`, in order; a member that cannot be spawned fails the start. */
  async launchAll(specs: readonly MemberSpec[]): Promise<void> {
    this.members.length = 0
    for (const spec of specs) this.members.push({ spec, proc: undefined, expectExit: false, status: 'stopped' })
    for (const m of this.members) await this.spawn(m)
  }

  private async spawn(m: Running): Promise<void> {
    const proc = m.spec.launch()
    m.proc = proc
    m.expectExit = false
    const failed = await proc.spawned
    if (failed) throw spawnError(`${this.service} (${m.spec.name})`, this.kind, proc.spec, failed)
    m.status = 'running'
    if (proc.pid > 0) this.registry.add(this.service, proc.pid)
    void proc.exited.then((info) => {
      this.registry.release(proc.pid)
      if (m.proc !== proc || m.expectExit) return
      m.status = 'exited'
      this.logs.push('rig', `${m.spec.name} (${m.spec.role}) exited unexpectedly (${info.signal ?? `code ${info.code}`})`)
      this.firstExit?.({ member: m.spec.name, info })
    })
  }

  /** The spec of member `name` (or of the first whose role is `name`). */
  specOf(name: string): MemberSpec {
    return this.find(name).spec
  }

  /** The member called `name`, or the first whose role is `name` (`master`); a clear error otherwise. */
  find(name: string): Running {
    const m = this.members.find((r) => r.spec.name === name) ?? this.members.find((r) => r.spec.role === name && r.proc?.running)
    if (!m) {
      const list = this.members.map((r) => `${r.spec.name} (${r.spec.role})`).join(', ')
      throw new RigError('RIG_UNKNOWN_MEMBER', `service "${this.service}" has no member or role "${name}" (members: ${list})`, { exitCode: 2 })
    }
    return m
  }

  private async stopOne(m: Running, teardown: boolean): Promise<void> {
    const proc = m.proc
    if (!proc) return
    m.expectExit = true
    if (proc.running) {
      const ask = m.spec.requestStop
      if (ask && (await ask(teardown).then(() => true, () => false))) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(r, 1000)))])
        clearTimeout(timer)
      }
    }
    if (proc.running || proc.groupRunning) await proc.stop()
    this.registry.release(proc.pid)
    m.status = 'stopped'
  }

  /** Stops every member, the last started first. */
  async stop(teardown: boolean): Promise<void> {
    for (const m of [...this.members].reverse()) await this.stopOne(m, teardown)
  }

  /** SIGKILLs one member (by name or role), or every member. Returns the member names killed. */
  async kill(name?: string): Promise<string[]> {
    const targets = name === undefined ? this.members : [this.find(name)]
    await Promise.all(
      targets.map(async (m) => {
        if (!m.proc) return
        m.expectExit = true
        await m.proc.kill()
        this.registry.release(m.proc.pid)
        m.status = 'stopped'
      }),
    )
    return targets.map((m) => m.spec.name)
  }

  /** Starts a killed or stopped member again (same port and data dir). */
  async start(name: string): Promise<void> {
    const m = this.find(name)
    if (m.proc?.running) throw new RigError('RIG_ALREADY_RUNNING', `${m.spec.name} of service "${this.service}" is already running`, { exitCode: 2 })
    await this.spawn(m)
  }

  /**
   * Swaps member `name` for `next`: `next` is spawned and `ready` awaited while the old one
   * still runs; then `switchOver` moves traffic and the old one is stopped. When `next` fails
   * to get ready it is stopped and the old one kept.
   */
  async replace(name: string, next: MemberSpec, ready: () => Promise<void>, switchOver: () => Promise<void>): Promise<void> {
    const old = this.find(name)
    const fresh: Running = { spec: next, proc: undefined, expectExit: false, status: 'stopped' }
    try {
      await this.spawn(fresh)
      const exited = (fresh.proc as ManagedProcess).exited.then((info) => {
        throw new RigError('RIG_SERVICE_CRASHED', `the new ${next.name} of service "${this.service}" exited during start-up (${info.signal ?? `code ${info.code}`})`)
      })
      exited.catch(() => {})
      await Promise.race([ready(), exited])
    } catch (err) {
      await this.stopOne(fresh, true)
      throw err
    }
    await switchOver()
    await this.stopOne(old, false)
    this.members[this.members.indexOf(old)] = fresh
  }

  /** Every member's state. */
  state(): MemberState[] {
    return this.members.map((m) => ({ name: m.spec.name, role: m.spec.role, host: m.spec.host, port: m.spec.port, pid: m.proc?.running ? m.proc.pid : null, status: m.status }))
  }
}
