// A PostgreSQL primary and its streaming replicas. Every member starts from a copy of the same
// init cache entry (one cleanly shut down cluster), so a replica needs no base backup: it starts
// in standby mode on its copy and streams the primary's WAL from the cache's checkpoint on.
// Role changes: promote (a replica, the primary being gone), switchover (the primary stopped
// cleanly, a caught-up replica promoted, the old primary restarted as its replica), failover
// (the primary SIGKILLed, the most advanced replica promoted), rejoin (a member that went down
// rewound with pg_rewind, or copied afresh with pg_basebackup, and restarted as a replica).
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pgQuery } from '../../drivers/pg.ts'
import { ProbeFailure } from '../../probes/probe.ts'
import { LogBuffer } from '../../providers/process/log-buffer.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, type ServiceUser } from '../../providers/process/user.ts'
import { TopologyError, type RoleChange, type RoleChangeOptions, type SwitchMode, type SwitchPhase, type Topology, type TopologyNode } from '../../topology/topology.ts'

/** The settings every member runs with on top of the service's (streaming needs WAL for replicas). */
export function replicationSettings(replicas: number, synchronous: boolean): Record<string, string> {
  return {
    wal_level: 'replica',
    // A replica refuses to start with fewer than its primary's, and the init cache says 10.
    max_wal_senders: String(Math.max(10, replicas + 4)),
    // A member that rejoins streams from the divergence point: keep that much WAL (1 MB segments).
    wal_keep_size: '256MB',
    // pg_rewind needs both (the init cache has no data checksums).
    wal_log_hints: 'on',
    full_page_writes: 'on',
    hot_standby: 'on',
    // A replica that starts before its primary listens retries every 100 ms, not every 5 s.
    wal_retrieve_retry_interval: '100ms',
    // remote_apply: a commit returns once a replica applied it, so a read there sees it.
    ...(synchronous ? { synchronous_commit: 'remote_apply' } : {}),
  }
}

/** What the set needs from the service's start. */
export interface ReplicaSetParams {
  service: string
  binDir: string
  user: ServiceUser | undefined
  /** The sockets of every member (one name per port). */
  socketDir: string
  pgUser: string
  database: string
  password: string
  synchronous: boolean
  /** Each member's data dir and port; member 0 starts as primary. */
  members: { data: string; port: number; logs: LogBuffer }[]
  /** The address every member listens on (127.0.0.1, or the service's host). */
  host: string
  /** The network namespace of the service's host, if it is placed on one. */
  netns: string | undefined
  /** `postgres` arguments for a data dir and port. */
  args(data: string, port: number): string[]
  /** Records a process the set spawned (the environment's watchdog kills it if rig dies). */
  track(proc: ManagedProcess): void
}

interface Member {
  node: number
  data: string
  port: number
  logs: LogBuffer
  role: 'primary' | 'replica'
  proc: ManagedProcess | undefined
  /** Resolves when the current run of the process logs that it accepts connections. */
  accepting: Promise<void>
}

/** What members log because roles change: not errors of the test that changed them. */
const ROLE_CHANGE_LINES =
  /could not connect to the primary server|could not receive data from WAL stream|could not send end-of-streaming message|server closed the connection unexpectedly|terminating connection due to (unexpected postmaster exit|administrator command)|terminating walreceiver|the database system is (starting up|shutting down|not yet accepting connections)|WAL receiver process shutdown requested/

const ACCEPTING = /database system is ready to accept (read-only )?connections/
/** How long a replica may take to catch up during a role change. */
const CATCH_UP_MS = 30_000

/** Resolves at the next line of `logs` (the server's own, not rig's) matching `re`. */
export function nextLine(logs: LogBuffer, re: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const off = logs.onLine((l) => {
      if (l.stream !== 'rig' && re.test(l.text)) {
        off()
        resolve()
      }
    })
  })
}

const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** The primary and replicas of one PostgreSQL service. */
export class ReplicaSet implements Topology {
  private readonly p: ReplicaSetParams
  private readonly members: Member[]
  private listeners: ((phase: SwitchPhase, during: SwitchMode) => void)[] = []
  /** Role changes run one at a time. */
  private busy: Promise<unknown> = Promise.resolve()

  constructor(params: ReplicaSetParams) {
    this.p = params
    this.members = params.members.map((m, node) => ({ node, ...m, role: node === 0 ? 'primary' : 'replica', proc: undefined, accepting: Promise.resolve() }))
  }

  /** Writes what each member needs before its first start: replication logins, standby setup. */
  prepare(): void {
    for (const m of this.members) {
      // Replicas stream over the private socket directory, trusted like every socket login.
      fs.appendFileSync(path.join(m.data, 'pg_hba.conf'), 'local replication all trust\n')
      if (m.role === 'replica') this.configureStandby(m, 0)
    }
  }

  private conninfo(primary: Member, m: Member): string {
    return `host=${this.p.socketDir} port=${primary.port} user=${this.p.pgUser} application_name=node${m.node}`
  }

  /** Later lines of postgresql.auto.conf win; ALTER SYSTEM rewrites the file from them. */
  private appendAutoConf(m: Member, settings: Record<string, string>): void {
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${literal(v)}\n`)
    fs.appendFileSync(path.join(m.data, 'postgresql.auto.conf'), lines.join(''))
  }

  private configureStandby(m: Member, primary: number): void {
    const signal = path.join(m.data, 'standby.signal')
    fs.writeFileSync(signal, '')
    chownForService(signal, this.p.user)
    this.appendAutoConf(m, { primary_conninfo: this.conninfo(this.member(primary), m), synchronous_standby_names: '' })
  }

  private member(node: number): Member {
    const m = this.members[node]
    if (!m) throw new TopologyError(`service "${this.p.service}" has no node ${node}: its nodes are 0 to ${this.members.length - 1} (0 started as primary)`)
    return m
  }

  /** Spawns member `node` on its data dir. */
  launch(node: number): ManagedProcess {
    const m = this.member(node)
    m.accepting = nextLine(m.logs, ACCEPTING)
    const proc = new ManagedProcess({ command: path.join(this.p.binDir, 'postgres'), args: this.p.args(m.data, m.port), cwd: this.p.socketDir, user: this.p.user, netns: this.p.netns, stopSignal: 'SIGINT', stopGraceMs: 5000 }, m.logs)
    m.proc = proc
    return proc
  }

  /** Spawns every replica (member 0 is the service's own process, launched by the environment). */
  launchReplicas(): void {
    for (const m of this.members) {
      if (m.node === 0) continue
      const proc = this.launch(m.node)
      if (proc.pid > 0) this.p.track(proc)
    }
  }

  private socketUrl(m: Member): string {
    return `postgres://${encodeURIComponent(this.p.pgUser)}@localhost:${m.port}/${encodeURIComponent(this.p.database)}?host=${encodeURIComponent(this.p.socketDir)}`
  }

  private query<R>(m: Member, sql: string, params?: unknown[], signal?: AbortSignal): Promise<R[]> {
    return pgQuery<R>(this.socketUrl(m), sql, { ...(params ? { params } : {}), ...(signal ? { signal } : {}) }).then((r) => r.rows)
  }

  private running(m: Member): boolean {
    return m.proc?.running === true
  }

  nodes(): TopologyNode[] {
    return this.members.map((m) => ({
      node: m.node,
      role: this.running(m) ? m.role : 'down',
      host: this.p.host,
      port: m.port,
      url: `postgres://${encodeURIComponent(this.p.pgUser)}:${encodeURIComponent(this.p.password)}@${this.p.host.includes(':') ? `[${this.p.host}]` : this.p.host}:${m.port}/${encodeURIComponent(this.p.database)}`,
      pid: this.running(m) ? (m.proc?.pid ?? null) : null,
    }))
  }

  primary(): TopologyNode | undefined {
    return this.nodes().find((n) => n.role === 'primary')
  }

  readTarget(): TopologyNode | undefined {
    const all = this.nodes()
    return all.find((n) => n.role === 'replica') ?? all.find((n) => n.role === 'primary')
  }

  /** The process of the current primary, which the service follows. */
  primaryProcess(): ManagedProcess | undefined {
    return this.members.find((m) => m.role === 'primary' && this.running(m))?.proc
  }

  onSwitch(listener: (phase: SwitchPhase, during: SwitchMode) => void): void {
    this.listeners.push(listener)
  }

  private emit(phase: SwitchPhase, during: SwitchMode = 'hold'): void {
    for (const l of this.listeners) l(phase, during)
  }

  /**
   * The primary's WAL position just after a commit made now: a replica that replayed up to it
   * applied that commit (a replica that streams but holds commits back, as with
   * recovery_min_apply_delay, replays the records before a commit and would otherwise look
   * caught up on a primary that wrote nothing since it was copied).
   */
  async primaryLsn(): Promise<string> {
    const m = this.members.find((x) => x.role === 'primary' && this.running(x))
    if (!m) throw new TopologyError(`service "${this.p.service}" has no running primary`)
    await this.query(m, 'select txid_current()')
    // The insert position: with synchronous_commit off the commit may not be written out yet, and pg_current_wal_lsn() is the write position.
    const [row] = await this.query<{ lsn: string }>(m, 'select pg_current_wal_insert_lsn()::text as lsn')
    return row?.lsn ?? '0/0'
  }

  /**
   * Whether every running replica replayed up to `lsn`; throws with what is behind and the
   * replica's last log lines when one has not.
   */
  async caughtUp(lsn: string, signal?: AbortSignal): Promise<void> {
    for (const m of this.members) {
      if (m.role !== 'replica') continue
      if (!this.running(m)) throw new ProbeFailure('error', this.behind(m, lsn, 'it exited').message, { permanent: true })
      await this.replayed(m, lsn, signal)
    }
  }

  /**
   * Once every replica caught up at the start: with synchronous replication, commits wait for
   * one from now on (not before, or the start's own commits would wait for replicas still starting).
   */
  async started(): Promise<void> {
    await this.syncStandbys()
  }

  private async replayed(m: Member, lsn: string, signal?: AbortSignal): Promise<void> {
    // A standby refuses logins until it is consistent and logs a FATAL for each: ask once it said so.
    const said = await Promise.race([m.accepting.then(() => true), sleep(100).then(() => false)])
    let row: { lsn: string | null; ok: boolean | null } | undefined
    if (said) {
      try {
        ;[row] = await this.query<{ lsn: string | null; ok: boolean | null }>(m, 'select pg_last_wal_replay_lsn()::text as lsn, pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [lsn], signal)
      } catch (err) {
        throw this.behind(m, lsn, `it does not answer (${(err as Error).message})`)
      }
    }
    if (row?.ok) return
    throw this.behind(m, lsn, said ? `it replayed up to ${row?.lsn ?? 'nothing'}` : 'it does not accept connections yet')
  }

  private behind(m: Member, lsn: string, state: string): Error {
    const tail = m.logs
      .texts()
      .filter((l) => /FATAL|ERROR|PANIC/.test(l))
      .slice(-3)
    return new Error(`replica node ${m.node} of "${this.p.service}" has not caught up with the primary's WAL at ${lsn}: ${state}${tail.length ? `; its log: ${tail.join(' | ')}` : ''} (${m.logs.file})`)
  }

  /** Waits until `m` replayed up to `lsn`, at most `ms`. */
  private async waitReplayed(m: Member, lsn: string, ms = CATCH_UP_MS): Promise<void> {
    const deadline = performance.now() + ms
    for (;;) {
      try {
        return await this.replayed(m, lsn)
      } catch (err) {
        if (performance.now() > deadline) throw new TopologyError(`${(err as Error).message}; gave up after ${Math.round(ms / 1000)} s`)
        if (!this.running(m)) throw new TopologyError(`replica node ${m.node} of "${this.p.service}" exited while catching up; see ${m.logs.file}`)
      }
      await sleep(20)
    }
  }

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn)
    this.busy = next.catch(() => {})
    return next
  }

  private replicaToPromote(to: number | undefined): Member {
    if (to !== undefined) {
      const m = this.member(to)
      if (m.role === 'primary' && this.running(m)) throw new TopologyError(`node ${to} of "${this.p.service}" is the primary already: promote a replica (${this.liveReplicas().map((r) => r.node).join(', ') || 'none is running'})`)
      if (!this.running(m)) throw new TopologyError(`node ${to} of "${this.p.service}" is down: rejoin it first (rejoin(${to})), or promote a running replica`)
      return m
    }
    const first = this.liveReplicas()[0]
    if (!first) throw new TopologyError(`service "${this.p.service}" has no running replica to promote: start it with \`replicas: 1\` or more, or rejoin a node that went down`)
    return first
  }

  private liveReplicas(): Member[] {
    return this.members.filter((m) => m.role === 'replica' && this.running(m))
  }

  /** The replica that received the most WAL (after a primary's loss: the one missing the least). */
  private async mostAdvanced(): Promise<Member> {
    let best: { m: Member; lsn: bigint } | undefined
    for (const m of this.liveReplicas()) {
      const [row] = await this.query<{ lsn: string | null }>(m, 'select pg_last_wal_receive_lsn()::text as lsn').catch(() => [{ lsn: null }])
      const lsn = lsnValue(row?.lsn ?? '0/0')
      if (!best || lsn > best.lsn) best = { m, lsn }
    }
    if (!best) throw new TopologyError(`service "${this.p.service}" has no running replica to promote`)
    return best.m
  }

  /** Promotes `m`; the caller made sure no other primary runs. */
  private async promoteMember(m: Member): Promise<void> {
    const [row] = await this.query<{ ok: boolean }>(m, 'select pg_promote(true, 60) as ok')
    if (!row?.ok) throw new TopologyError(`node ${m.node} of "${this.p.service}" was not promoted within 60 s; see ${m.logs.file}`)
    for (const x of this.members) if (x.role === 'primary') x.role = 'replica'
    m.role = 'primary'
    // The other replicas follow the new primary (primary_conninfo is reloadable; the new timeline is followed).
    for (const r of this.liveReplicas()) {
      await this.query(r, `alter system set primary_conninfo = ${literal(this.conninfo(m, r))}`)
      await this.query(r, 'select pg_reload_conf()')
    }
    await this.syncStandbys()
  }

  /** With synchronous replication, the primary waits for a replica only while one runs. */
  private async syncStandbys(): Promise<void> {
    if (!this.p.synchronous) return
    const primary = this.members.find((x) => x.role === 'primary' && this.running(x))
    if (!primary) return
    await this.query(primary, `alter system set synchronous_standby_names = ${literal(this.liveReplicas().length > 0 ? '*' : '')}`)
    await this.query(primary, 'select pg_reload_conf()')
  }

  private change(op: string, text: string, t0: number): RoleChange {
    return { op, text: `${op}: ${text}`, primary: this.members.find((m) => m.role === 'primary' && this.running(m))?.node, ms: Math.round(performance.now() - t0), logs: ROLE_CHANGE_LINES.source }
  }

  /** Runs `fn` with the role addresses switched to `during`, and lets them follow afterwards. */
  private async switching<T>(during: SwitchMode, fn: () => Promise<T>): Promise<T> {
    this.emit('switching', during)
    try {
      return await fn()
    } finally {
      this.emit('done', during)
    }
  }

  promote(node: number, options: RoleChangeOptions = {}): Promise<RoleChange> {
    return this.serialise(async () => {
      const t0 = performance.now()
      const m = this.replicaToPromote(node)
      const primary = this.members.find((x) => x.role === 'primary' && this.running(x))
      if (primary) {
        throw new TopologyError(
          `node ${primary.node} of "${this.p.service}" is still the running primary: promoting node ${node} would make two primaries. Use switchover() for a clean swap, or failover() to kill the primary and promote`,
        )
      }
      await this.switching(options.during ?? 'hold', () => this.promoteMember(m))
      return this.change('promote', `node ${m.node} promoted`, t0)
    })
  }

  failover(options: RoleChangeOptions = {}): Promise<RoleChange> {
    return this.serialise(async () => {
      const t0 = performance.now()
      const primary = this.members.find((x) => x.role === 'primary' && this.running(x))
      if (options.to !== undefined) this.replicaToPromote(options.to)
      else if (this.liveReplicas().length === 0) {
        throw new TopologyError(`service "${this.p.service}" has no running replica to fail over to: give it \`replicas: 1\` or more (or rejoin the node that went down); nothing was killed`)
      }
      return this.switching(options.during ?? 'hold', async () => {
        if (primary?.proc) await primary.proc.kill()
        const m = options.to !== undefined ? this.member(options.to) : await this.mostAdvanced()
        await this.promoteMember(m)
        return this.change('failover', `${primary ? `node ${primary.node} killed, ` : ''}node ${m.node} promoted`, t0)
      })
    })
  }

  switchover(options: RoleChangeOptions = {}): Promise<RoleChange> {
    return this.serialise(async () => {
      const t0 = performance.now()
      const old = this.members.find((x) => x.role === 'primary' && this.running(x))
      if (!old?.proc) throw new TopologyError(`service "${this.p.service}" has no running primary to switch over from: use failover() or promote(node)`)
      const m = this.replicaToPromote(options.to)
      await this.switching(options.during ?? 'hold', async () => {
        // A clean stop sends the last WAL, the shutdown checkpoint included, to the replicas.
        await old.proc?.stop()
        const lsn = await this.checkpointOf(old)
        await this.waitReplayed(m, lsn)
        await this.promoteMember(m)
      })
      // The old primary follows as a replica: its WAL ends where the new timeline begins.
      old.role = 'replica'
      await this.restartAsReplica(old, m)
      this.emit('moved')
      return this.change('switchover', `node ${old.node} → replica, node ${m.node} promoted`, t0)
    })
  }

  rejoin(node?: number): Promise<RoleChange> {
    return this.serialise(async () => {
      const t0 = performance.now()
      const down = node === undefined ? this.members.find((m) => !this.running(m)) : this.member(node)
      if (!down) throw new TopologyError(`every node of "${this.p.service}" is running: rejoin brings back a node that went down (failover, kill)`)
      if (this.running(down)) throw new TopologyError(`node ${down.node} of "${this.p.service}" is running (${down.role}): rejoin brings back a node that went down`)
      const primary = this.members.find((x) => x.role === 'primary' && this.running(x))
      if (!primary) throw new TopologyError(`service "${this.p.service}" has no running primary for node ${down.node} to follow: promote a replica first`)
      const how = await this.rewind(down, primary)
      down.role = 'replica'
      await this.restartAsReplica(down, primary)
      this.emit('moved')
      return this.change('rejoin', `node ${down.node} back as a replica (${how})`, t0)
    })
  }

  /** The latest checkpoint of a stopped member's data dir. */
  private async checkpointOf(m: Member): Promise<string> {
    const out = await run(path.join(this.p.binDir, 'pg_controldata'), ['-D', m.data], { user: this.p.user, env: { ...process.env, LC_ALL: 'C' } })
    const lsn = /Latest checkpoint location:\s*(\S+)/.exec(out)?.[1]
    if (!lsn) throw new TopologyError(`could not read the last checkpoint of node ${m.node}: pg_controldata said ${out.slice(0, 200)}`)
    return lsn
  }

  /**
   * Makes a stopped member's data follow `primary`: pg_rewind back to the divergence point, or
   * a fresh copy (pg_basebackup) when it cannot rewind.
   */
  private async rewind(m: Member, primary: Member): Promise<string> {
    const source = `host=${this.p.socketDir} port=${primary.port} user=${this.p.pgUser} dbname=${this.p.database}`
    const opts = { user: this.p.user, cwd: this.p.socketDir, env: { ...process.env, LC_ALL: 'C' } }
    try {
      // A primary promoted moments ago names its new timeline in its control file only after a checkpoint.
      await this.query(primary, 'checkpoint')
      await run(path.join(this.p.binDir, 'pg_rewind'), ['-D', m.data, '--source-server', source], opts)
      m.logs.push('rig', `pg_rewind: node ${m.node} rewound to follow node ${primary.node}`)
      return 'pg_rewind'
    } catch (err) {
      m.logs.push('rig', `pg_rewind failed (${(err as Error).message.split('\n')[0]}); copying the primary's data instead`)
    }
    fs.rmSync(m.data, { recursive: true, force: true })
    await run(path.join(this.p.binDir, 'pg_basebackup'), ['-D', m.data, '-d', source, '-X', 'stream', '-c', 'fast'], opts)
    return 'pg_basebackup'
  }

  private async restartAsReplica(m: Member, primary: Member): Promise<void> {
    this.configureStandby(m, primary.node)
    const lsn = await this.primaryLsnOf(primary)
    const proc = this.launch(m.node)
    if (proc.pid > 0) this.p.track(proc)
    await this.waitReplayed(m, lsn)
    await this.syncStandbys()
  }

  private async primaryLsnOf(primary: Member): Promise<string> {
    const [row] = await this.query<{ lsn: string }>(primary, 'select pg_current_wal_lsn()::text as lsn')
    return row?.lsn ?? '0/0'
  }

  async stop(teardown: boolean): Promise<void> {
    // Member 0's first process belongs to the service (the environment stops the one it follows).
    await Promise.all(this.members.map((m) => (m.proc?.groupRunning ? (teardown ? m.proc.stop(undefined, 'SIGQUIT') : m.proc.stop()) : undefined)))
    if (teardown) await Promise.all(this.members.slice(1).map((m) => m.logs.close()))
  }
}

/** An LSN (`16/B374D848`) as a number. */
function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/')
  return (BigInt(`0x${hi ?? '0'}`) << 32n) + BigInt(`0x${lo ?? '0'}`)
}

/** Each replica's log: `<service>.replica-<n>.log` next to the service's. */
export function replicaLogs(serviceLog: string, service: string, n: number): LogBuffer {
  return new LogBuffer(path.join(path.dirname(serviceLog), `${service}.replica-${n}.log`))
}
