// A Redis master with replicas and sentinels, from the same local `redis-server` (a sentinel
// is `redis-server sentinel.conf --sentinel`). The service's own address is rig's endpoint
// that follows the master; the sentinels, the master name and the password are exported for
// clients that discover the master themselves. The sentinels are told about each other and
// the replicas in their config, so they agree at once instead of after their hello rounds.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { timeoutScale } from '../../config/defaults.ts'
import { respCommand, type RespValue } from '../../drivers/resp.ts'
import { RigError } from '../../errors.ts'
import { ProbeFailure, type Probe } from '../../probes/probe.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { freePort } from '../../providers/process/ports.ts'
import { privateServiceDir, type ServiceUser } from '../../providers/process/user.ts'
import type { Launched, MemberSpec, StartContext } from '../service-kind.ts'
import { MasterFollower } from './follower.ts'
import { watchSentinels } from './sentinel-watch.ts'
import { shutdownRedis } from './shutdown.ts'

/** The topology options of `redis()`. */
export interface RedisTopologyOptions {
  /** Replicas of the master. @default 0 */
  replicas?: number
  /** Sentinels watching the master (their quorum is a majority). @default 0 */
  sentinels?: number
  /** The name the sentinels know the master by. @default the service's name */
  masterName?: string
  /** How long the master must not answer before the sentinels fail it over, in ms. @default 1000 */
  downAfter?: number
}

/** What the topology is built from. */
export interface TopologyBase {
  bin: string
  user: ServiceUser | undefined
  password: string
  /** Arguments every data node gets besides its config file, port and dir. */
  args: (dir: string, port: number) => string[]
}

const HOST = '127.0.0.1'

/** Writes `text` as a new file only the service's account reads (the one before is replaced). */
function writeConf(file: string, text: string, user: ServiceUser | undefined): void {
  fs.rmSync(file, { force: true })
  fs.writeFileSync(file, text, { flag: 'wx', mode: 0o600 })
  if (user) fs.chownSync(file, user.uid, user.gid)
}

function auth(password: string): string[] {
  return ['AUTH', 'default', password]
}

/** `SENTINEL MASTER`'s flat key/value list as a map. */
function fields(v: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>()
  if (Array.isArray(v)) for (let i = 0; i + 1 < v.length; i += 2) out.set(String(v[i]), v[i + 1] ?? null)
  return out
}

/** Starts a topology: returns the service's `Launched`. */
export async function startTopology(ctx: StartContext, o: RedisTopologyOptions, base: TopologyBase): Promise<Launched> {
  const { bin, user, password } = base
  const masterName = o.masterName ?? ctx.name
  const nodes: MemberSpec[] = []
  const sentinels: (MemberSpec & { id: string })[] = []
  // The instance dir stays rig's (traversable, not writable, by the service's account), so
  // nothing in it can be swapped for a link before rig writes a member's config again.
  fs.chmodSync(ctx.dir, user ? 0o711 : 0o700)
  const dirOf = (name: string): string => {
    const d = path.join(ctx.dir, name)
    fs.mkdirSync(d)
    return d
  }
  let master: MemberSpec | undefined
  const masterNow = (): MemberSpec => master as MemberSpec

  for (let i = 1; i <= 1 + (o.replicas ?? 0); i++) {
    const name = `node${i}`
    const dir = dirOf(name)
    const port = await freePort()
    const conf = path.join(dir, 'redis.conf')
    // The password goes in a file only the server's account can read: arguments are public.
    writeConf(conf, `requirepass ${password}\nmasterauth ${password}\n`, user)
    privateServiceDir(dir, user)
    const url = `redis://default:${password}@${HOST}:${port}`
    const spec: MemberSpec = {
      name,
      role: i === 1 ? 'master' : 'replica',
      host: HOST,
      port,
      // A replica follows the master of now: a member started again after a failover rejoins as one.
      launch: () => {
        const m = masterNow()
        const args = [conf, ...base.args(dir, port), '--shutdown-timeout', '1', '--repl-diskless-sync-delay', '0']
        if (m !== spec) args.push('--replicaof', m.host, String(m.port))
        return new ManagedProcess({ command: bin, args, cwd: dir, user, stopSignal: 'SIGTERM', stopGraceMs: 3000 }, ctx.logs)
      },
      requestStop: (teardown) => shutdownRedis(url, teardown),
    }
    nodes.push(spec)
  }
  master = nodes[0]
  const quorum = Math.floor((o.sentinels ?? 0) / 2) + 1
  for (let i = 1; i <= (o.sentinels ?? 0); i++) {
    const name = `sentinel${i}`
    const dir = dirOf(name)
    privateServiceDir(dir, user)
    const port = await freePort()
    const id = randomBytes(20).toString('hex')
    const conf = path.join(dir, 'sentinel.conf')
    const spec = {
      name,
      id,
      role: 'sentinel',
      host: HOST,
      port,
      // Written at each start from the topology of now: a sentinel rewrites its file as it learns.
      launch: () => {
        const m = masterNow()
        const lines = [
          `port ${port}`,
          `bind ${HOST}`,
          'protected-mode no',
          'daemonize no',
          `dir ${dir}`,
          `requirepass ${password}`,
          `sentinel sentinel-pass ${password}`,
          `sentinel myid ${id}`,
          `sentinel monitor ${masterName} ${m.host} ${m.port} ${quorum}`,
          `sentinel auth-pass ${masterName} ${password}`,
          `sentinel down-after-milliseconds ${masterName} ${o.downAfter ?? 1000}`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 1`,
          ...nodes.filter((n) => n !== m).map((n) => `sentinel known-replica ${masterName} ${n.host} ${n.port}`),
          ...sentinels.filter((s) => s.name !== name).map((s) => `sentinel known-sentinel ${masterName} ${s.host} ${s.port} ${s.id}`),
        ]
        writeConf(conf, lines.join('\n') + '\n', user)
        return new ManagedProcess({ command: bin, args: [conf, '--sentinel'], cwd: dir, user, stopSignal: 'SIGTERM', stopGraceMs: 3000 }, ctx.logs)
      },
      requestStop: (teardown: boolean) => shutdownRedis(`redis://default:${password}@${HOST}:${port}`, teardown),
    }
    sentinels.push(spec)
  }

  const follower = new MasterFollower(ctx.name, { host: masterNow().host, port: masterNow().port })
  await follower.listen(ctx.port)
  /** The sentinels announced (or rig saw) a new master. */
  const switchTo = (addr: { host: string; port: number }): MemberSpec | undefined => {
    const next = nodes.find((n) => n.host === addr.host && n.port === addr.port)
    if (!next) return undefined
    if (next !== master) {
      ctx.logs.push('rig', `${next.name} is the master now (was ${masterNow().name})`)
      for (const n of nodes) n.role = n === next ? 'master' : 'replica'
      master = next
    }
    follower.follow(addr)
    return next
  }
  const watch = sentinels.length > 0 ? watchSentinels(sentinels, password, masterName, switchTo) : undefined

  const ask = (m: { host: string; port: number }, cmd: string[], signal?: AbortSignal): Promise<RespValue> => respCommand(m.host, m.port, [auth(password), cmd], signal)

  const ready: Probe = {
    name: `redis topology (${nodes.length - 1} replica(s), ${sentinels.length} sentinel(s))`,
    timeoutMs: 2000,
    async run({ signal }) {
      const m = masterNow()
      if ((await ask(m, ['PING'], signal)) !== 'PONG') throw new ProbeFailure('assertion', `${m.name} does not answer PING`)
      for (const r of nodes.filter((n) => n !== m)) {
        const info = String(await ask(r, ['INFO', 'replication'], signal))
        if (!/master_link_status:up/.test(info)) throw new ProbeFailure('assertion', `${r.name}'s link to the master is not up yet`)
      }
      for (const s of sentinels) {
        const addr = await ask(s, ['SENTINEL', 'get-master-addr-by-name', masterName], signal)
        if (!Array.isArray(addr) || Number(addr[1]) !== m.port) throw new ProbeFailure('assertion', `${s.name} does not see ${m.name} as the master yet`)
        const f = fields(await ask(s, ['SENTINEL', 'master', masterName], signal))
        if (Number(f.get('num-other-sentinels')) !== sentinels.length - 1) throw new ProbeFailure('assertion', `${s.name} knows ${String(f.get('num-other-sentinels'))} other sentinel(s), not ${sentinels.length - 1}`)
        const replicas = await ask(s, ['SENTINEL', 'replicas', masterName], signal)
        const linked = Array.isArray(replicas) ? replicas.map(fields).filter((r) => !/disconnected|s_down/.test(String(r.get('flags')))).length : 0
        if (linked < nodes.length - 1) throw new ProbeFailure('assertion', `${s.name} is connected to ${linked} of ${nodes.length - 1} replica(s)`)
      }
    },
  }

  /**
   * Replication is asynchronous and `SENTINEL FAILOVER` does not wait for it: a write the master
   * acknowledged just before the call would be missing on the promoted replica. Waits until every
   * replica with its link up has received what the master had written when the call came (the
   * replica's own `slave_repl_offset` against the master's `master_repl_offset`), for up to 5 s;
   * past that the failover goes ahead, as a forced one would, and the service's log says which
   * replica was behind.
   */
  const replicasCaughtUp = async (m: MemberSpec, signal: AbortSignal): Promise<void> => {
    const info = async (n: MemberSpec): Promise<string> => String(await ask(n, ['INFO', 'replication'], signal).catch(() => ''))
    const target = Number(/master_repl_offset:(\d+)/.exec(await info(m))?.[1] ?? NaN)
    if (!Number.isFinite(target)) return
    const behind = async (): Promise<string[]> => {
      const late: string[] = []
      for (const n of nodes.filter((x) => x !== m)) {
        const text = await info(n)
        if (!/master_link_status:up/.test(text)) continue
        const offset = Number(/slave_repl_offset:(\d+)/.exec(text)?.[1] ?? NaN)
        if (!(offset >= target)) late.push(`${n.name} at ${offset} of ${target}`)
      }
      return late
    }
    const deadline = performance.now() + 5_000 * timeoutScale()
    let late = await behind()
    while (late.length > 0 && performance.now() < deadline) {
      await sleep(10, undefined, { signal })
      late = await behind()
    }
    if (late.length > 0) ctx.logs.push('rig', `failover: replica ${late.join(', ')} had not caught up after ${Math.round(5 * timeoutScale())} s; failing over anyway`)
  }

  const failover = async (signal: AbortSignal): Promise<string> => {
    if (sentinels.length === 0) {
      throw new RigError('RIG_NO_FAILOVER', `service "${ctx.name}" has no sentinel to fail over with: give it sentinels, e.g. redis({ replicas: 1, sentinels: 3 })`, { exitCode: 2 })
    }
    const before = masterNow()
    await replicasCaughtUp(before, signal)
    let answered = false
    for (const s of sentinels) {
      try {
        await ask(s, ['SENTINEL', 'FAILOVER', masterName], signal)
        answered = true
        break
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err)
        if (/NOGOODSLAVE|NOGOODREPLICA/i.test(text)) {
          const replicas = nodes.filter((n) => n !== before)
          throw new RigError(
            'RIG_NO_FAILOVER',
            replicas.length === 0
              ? `service "${ctx.name}" has no replica to fail over to: give it replicas, e.g. redis({ replicas: 1, sentinels: ${sentinels.length} })`
              : `no replica of service "${ctx.name}" can take over (${replicas.map((r) => r.name).join(', ')}): the sentinels see none up and in sync; restart the stopped ones first`,
            { exitCode: 2 },
          )
        }
        if (/INPROG/i.test(text)) throw new RigError('RIG_NO_FAILOVER', `a failover of service "${ctx.name}" is already in progress: wait for it to end`, { exitCode: 2 })
        // Not reachable (killed): ask the next sentinel.
      }
    }
    if (!answered) throw new RigError('RIG_NO_FAILOVER', `no sentinel of service "${ctx.name}" answers (${sentinels.map((s) => s.name).join(', ')}): restart them first`, { exitCode: 2 })
    const deadline = performance.now() + 30_000 * timeoutScale()
    while (performance.now() < deadline) {
      signal.throwIfAborted()
      for (const s of sentinels) {
        const addr = await ask(s, ['SENTINEL', 'get-master-addr-by-name', masterName], signal).catch(() => undefined)
        if (!Array.isArray(addr) || Number(addr[1]) === before.port) continue
        const next = nodes.find((n) => n.port === Number(addr[1]))
        const role = next ? await ask(next, ['ROLE'], signal).catch(() => undefined) : undefined
        if (next && Array.isArray(role) && role[0] === 'master') {
          switchTo(next)
          // The sentinels turn the old master into a replica only at their next look at it (up
          // to 10 s): the same order given now makes it one at once.
          await Promise.all(nodes.filter((n) => n !== next).map((n) => ask(n, ['REPLICAOF', next.host, String(next.port)], signal).catch(() => undefined)))
          return next.name
        }
      }
      await sleep(25)
    }
    throw new RigError('RIG_FAILOVER_TIMEOUT', `the sentinels of service "${ctx.name}" accepted the failover, but no new master was seen within ${Math.round(30 * timeoutScale())} s: see its log (rig logs ${ctx.name})`)
  }

  const url = `redis://default:${password}@${HOST}:${ctx.port}`
  return {
    host: HOST,
    port: ctx.port,
    url,
    env: {
      PASSWORD: password,
      ...(sentinels.length > 0 ? { SENTINELS: sentinels.map((s) => `${s.host}:${s.port}`).join(','), MASTER_NAME: masterName } : {}),
    },
    provider: 'process',
    members: [...nodes, ...sentinels],
    roles: { failover },
    defaultReady: [ready],
    cleanup: async () => {
      watch?.close()
      await follower.close()
    },
  }
}
