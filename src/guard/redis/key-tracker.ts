// Which keys were written since the clean state, from Redis keyspace notifications, so that a
// check reads those keys instead of the whole key space.
//
// A dedicated connection pattern-subscribes to `__keyevent@<db>__:*` (every class: writes,
// deletes, renames, moves, copies, expiries, evictions) and collects the key each event names.
// At check time the guard PUBLISHes a token on a channel that same connection subscribes to.
// Redis publishes a command's notifications synchronously while it runs the command
// (notify.c: notifyKeyspaceEvent → pubsubPublishMessage, which appends to each subscriber's reply
// buffer) and PUBLISH goes through the same function, so on that one connection the token comes
// after the notifications of every write the server ran before the PUBLISH. The keys collected
// up to the token are the keys to read; later ones wait for the next check.
//
// Some operations change keys without a per-key event: FLUSHDB, FLUSHALL, SWAPDB, DEBUG (RELOAD,
// LOADAOF, POPULATE…), REPLICAOF/SLAVEOF (a full sync replaces the data), MODULE (a module's
// commands), and a CONFIG SET may turn the notifications off. The server's command counters
// (INFO commandstats) are read right after the token: if any of those commands ran since the
// last clean state, the check cannot trust the keys and scans. So does a lost connection, a token
// that does not arrive in time, or another server (run_id: a restart).
import { connectRedis, type RedisClient } from '../../drivers/redis.ts'
import { type KeyBytes, keyBytes } from './key-space.ts'

/** How a Redis check found the changes: the keys named by keyspace events, or a scan of every watched key. */
export type RedisDetection = 'events' | 'scan'

/** The event classes the tracker needs (besides `E`, key-event channels): every one `A` stands for but `d` (absent before Redis 7). */
const NEEDED_CLASSES = 'g$lshzxet'

/** Commands that change keys without a per-key event (the names `INFO commandstats` gives them). */
const UNTRACKED = /^cmdstat_(flushdb|flushall|swapdb|debug|replicaof|slaveof|config\|set|config|module(\|\w+)?)$/

/** How long a fence may take to come back before the tracking is given up (a loaded machine delivers in well under a millisecond). */
export const FENCE_TIMEOUT_MS = 5000

/** Classes a `notify-keyspace-events` value enables, `A` expanded. */
function classes(value: string): Set<string> {
  return new Set(value.replace('A', () => 'g$lshzxetd'))
}

/** Calls of the untracked commands and the server's run_id, as one comparable map. */
function signature(commandstats: string, server: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of commandstats.split(/\r?\n/)) {
    const m = /^([^:]+):calls=(\d+)/.exec(line)
    if (m && UNTRACKED.test(m[1] as string)) out.set((m[1] as string).slice('cmdstat_'.length), m[2] as string)
  }
  out.set('run_id', /run_id:(\w+)/.exec(server)?.[1] ?? '?')
  return out
}

/** What moved between two signatures, as a reason to scan; undefined when nothing did. */
function moved(before: Map<string, string>, now: Map<string, string>): string | undefined {
  if (before.get('run_id') !== now.get('run_id')) return 'the server restarted'
  for (const [cmd, calls] of now) if (before.get(cmd) !== calls) return `${cmd.toUpperCase().replace('|', ' ')} ran (no per-key events)`
  for (const cmd of before.keys()) if (!now.has(cmd)) return 'the command counters were reset (CONFIG RESETSTAT)'
  return undefined
}

/** Keys written in one database since the last fence, from keyspace notifications. */
export class KeyTracker {
  private touched = new Set<KeyBytes>()
  private lostReason: string | undefined
  private readonly waiting = new Map<string, (keys: Set<KeyBytes>) => void>()
  private seq = 0
  private stats: Map<string, string> | undefined
  private readonly sub: RedisClient
  private readonly channel: string

  private constructor(sub: RedisClient, channel: string) {
    this.sub = sub
    this.channel = channel
    sub.on('error', () => this.lose('the subscriber connection was lost'))
  }

  /**
   * Starts tracking database `db` of the server `main` is connected to. `configure` allows
   * adding the event classes to `notify-keyspace-events` (servers rig started, or an opt-in);
   * without it a server that does not publish them is a reason, returned as a string.
   */
  static async start(main: RedisClient, url: string, options: { db: number; configure: boolean; ca?: string }): Promise<KeyTracker | string> {
    let config: string
    try {
      config = String((await main.sendCommand<string[]>(['CONFIG', 'GET', 'notify-keyspace-events']))[1] ?? '')
    } catch (err) {
      return `CONFIG GET notify-keyspace-events failed (${(err as Error).message})`
    }
    const have = classes(config)
    const missing = [...`E${NEEDED_CLASSES}`].filter((c) => !have.has(c))
    if (missing.length > 0) {
      if (!options.configure) return `the server's notify-keyspace-events ("${config}") lacks ${missing.join('')} and rig did not start it (detection: 'events' lets rig add them)`
      try {
        await main.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', `${config}EA`])
      } catch (err) {
        return `CONFIG SET notify-keyspace-events failed (${(err as Error).message})`
      }
    }
    try {
      const modules = await main.sendCommand<unknown[]>(['MODULE', 'LIST'])
      if (Array.isArray(modules) && modules.length > 0) return 'modules are loaded: their commands may write without key events'
    } catch (err) {
      return `MODULE LIST failed (${(err as Error).message}): modules may write without key events`
    }
    let sub: RedisClient
    try {
      sub = await connectRedis(url, { purpose: 'the Redis guard', ...(options.ca ? { ca: options.ca } : {}) })
    } catch (err) {
      return `the subscriber connection failed (${(err as Error).message})`
    }
    try {
      const [mine, theirs] = await Promise.all([sub.sendCommand<string>(['INFO', 'server']), main.sendCommand<string>(['INFO', 'server'])])
      const runId = (info: string): string | undefined => /run_id:(\w+)/.exec(String(info))?.[1]
      if (runId(mine) === undefined || runId(mine) !== runId(theirs)) {
        sub.destroy()
        return 'the subscriber connection reached another server than the guard'
      }
      const tracker = new KeyTracker(sub, `__rig_guard_fence__:${process.pid}:${Math.random().toString(36).slice(2)}`)
      await sub.pSubscribe(`__keyevent@${options.db}__:*`, (key) => tracker.touched.add(keyBytes(key)), true)
      await sub.subscribe(tracker.channel, (token) => tracker.arrived(token.toString()), true)
      return tracker
    } catch (err) {
      destroy(sub)
      return `subscribing to keyspace events failed (${(err as Error).message})`
    }
  }

  /** Why the tracking can no longer be trusted, once it cannot. */
  get lost(): string | undefined {
    return this.lostReason ?? (this.sub.isReady ? undefined : 'the subscriber connection was lost')
  }

  private lose(reason: string): void {
    this.lostReason ??= reason
    for (const resolve of this.waiting.values()) resolve(new Set())
    this.waiting.clear()
  }

  private arrived(token: string): void {
    const resolve = this.waiting.get(token)
    if (!resolve) return
    this.waiting.delete(token)
    const keys = this.touched
    this.touched = new Set()
    resolve(keys)
  }

  /**
   * The keys written before now: publishes a token through `main`, reads the command counters
   * right after it, and waits for the token on the subscriber. `untracked` says why these keys
   * cannot be trusted (the caller scans instead); `lost` that the tracking is over.
   */
  async fence(main: RedisClient): Promise<{ keys: Set<KeyBytes>; untracked?: string; lost?: string }> {
    const gone = this.lost
    if (gone) return { keys: new Set(), untracked: gone, lost: gone }
    const token = String(++this.seq)
    const arrived = new Promise<Set<KeyBytes>>((resolve) => this.waiting.set(token, resolve))
    const [receivers, commandstats, server] = await Promise.all([main.sendCommand<number>(['PUBLISH', this.channel, token]), main.sendCommand<string>(['INFO', 'commandstats']), main.sendCommand<string>(['INFO', 'server'])])
    if (Number(receivers) < 1) this.lose('the subscriber connection no longer receives')
    let timer: NodeJS.Timeout | undefined
    const keys = await Promise.race([arrived, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), FENCE_TIMEOUT_MS)))])
    clearTimeout(timer)
    if (keys === undefined) this.lose(`the fence did not come back within ${FENCE_TIMEOUT_MS} ms`)
    const lost = this.lost
    if (lost || keys === undefined) return { keys: new Set(), untracked: lost, lost }
    const now = signature(String(commandstats), String(server))
    const before = this.stats
    this.stats = now
    const untracked = before ? moved(before, now) : 'tracking just started'
    return untracked ? { keys, untracked } : { keys }
  }

  /** Keys the next check reads whatever the events say (those found changed and not yet put back). */
  remember(keys: Iterable<KeyBytes>): void {
    for (const k of keys) this.touched.add(k)
  }

  close(): void {
    this.lose('closed')
    destroy(this.sub)
  }
}

function destroy(c: RedisClient): void {
  try {
    c.destroy()
  } catch {
    // already closed
  }
}
