// Per-worker RabbitMQ copies: one vhost per parallel worker on the same broker, holding the
// baseline's exchanges, queues, bindings and messages; the worker reaches it through its URL.
// Each vhost's description says whose it is, so a later run sweeps what a crashed one left.
import type { StoreInfo, WorkerClone, WorkerCloner } from '../adapter.ts'
import { GuardUsageError } from '../errors.ts'
import { copyMeta, type CopyMeta, ownerGone } from '../postgres/template-db.ts'
import { assertMayClean } from '../safety.ts'
import { BrokerSession } from './broker-session.ts'
import { converge } from './converge.ts'

/** Options of {@link rabbitmqWorkers}. */
export interface RabbitmqWorkerOptions {
  /** Queues and exchanges not copied (globs). */
  exclude?: readonly string[]
}

/** The URL of `url`'s broker and user on `vhost`. */
export function withVhost(url: string, vhost: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(vhost)}`
  return u.toString()
}

/** `rig-w2-<run>` beside vhost `/`, `<vhost>-rig-w2-<run>` beside another. */
const workerVhost = (base: string, worker: number, runId: string): string => `${base === '/' ? '' : `${base}-`}rig-w${worker}-${runId}`

async function withSession<T>(url: string, fn: (s: BrokerSession) => Promise<T>): Promise<T> {
  const s = await BrokerSession.open(url)
  try {
    if (!s.agent) throw new GuardUsageError('RIG_RABBITMQ_NO_AGENT', `per-worker vhosts need a broker rig started (${new URL(url).host} has no rig agent)`)
    return await fn(s)
  } finally {
    await s.close()
  }
}

const EMPTY = { queues: new Map(), exchanges: new Map(), bindings: new Map(), complete: true }

/**
 * Copies the vhost at `url` once per parallel worker. `info` says whose it is: every copy, drop
 * and sweep goes through the guard's safety gate first.
 */
export function rabbitmqWorkers(info: StoreInfo, url: string, options: RabbitmqWorkerOptions = {}): WorkerCloner {
  const store = info.name
  const exclude = options.exclude ?? []
  const sweep = (stale: (m: CopyMeta) => boolean, action: string): Promise<number> =>
    withSession(url, async (s) => {
      assertMayClean(info, {}, action)
      const { vhosts } = await s.agent!.request<{ vhosts: Array<{ name: string; description: string }> }>({ op: 'list_vhosts' })
      let n = 0
      for (const v of vhosts) {
        let meta: CopyMeta | undefined
        try {
          meta = JSON.parse(v.description) as CopyMeta
        } catch {
          continue
        }
        if (meta?.rig !== 'worker' || meta.source !== s.vhost || !stale(meta)) continue
        await s.agent!.request({ op: 'delete_vhost', name: v.name })
        n++
      }
      return n
    })
  return {
    prepare: (count, runId) =>
      withSession(url, async (s) => {
        assertMayClean(info, {}, 'clone')
        const image = await s.capture(await s.read(exclude, []))
        const clones: WorkerClone[] = []
        for (let w = 1; w <= count; w++) {
          const vhost = workerVhost(s.vhost, w, runId)
          await s.agent!.request({ op: 'add_vhost', name: vhost, description: JSON.stringify(copyMeta('worker', s.vhost, vhost, runId)) })
          const copy = withVhost(url, vhost)
          const ws = await BrokerSession.open(copy)
          try {
            await converge(ws, image, EMPTY, { resetMessages: new Set(), redeclare: new Set() }, exclude)
          } finally {
            await ws.close()
          }
          clones.push({ worker: w, store, url: copy, env: { VHOST: vhost } })
        }
        return clones
      }),
    drop: (runId) => sweep((m) => m.runId === runId, 'drop worker copies on'),
    sweep: ({ maxAgeMs = 24 * 3600_000 } = {}) => sweep((m) => ownerGone(m) || Date.now() - Date.parse(m.createdAt) > maxAgeMs, 'drop worker copies on'),
  }
}
