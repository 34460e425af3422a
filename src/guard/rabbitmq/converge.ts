// Puts a vhost back to an image: queues and exchanges the image lacks are deleted, those it has
// are declared (again, when their definition changed), queue contents are reset to the image's
// messages, bindings are added or removed to match. Used by restore, snapshot restore and
// per-worker copies; it touches only what differs.
import { deleteQueue } from './queue-ops.ts'
import type { BrokerSession, VhostImage } from './broker-session.ts'
import { publishMessages } from './messages.ts'
import { type BindingDef, exchangeDefKey, queueDefKey, toTable, type VhostState } from './topology.ts'

/** What a convergence must do beyond the differences in topology. */
export interface ConvergePlan {
  /** Queues whose messages go back to the image's: purged, then the image's published. */
  resetMessages: ReadonlySet<string>
  /**
   * Queues deleted and declared again: their definition changed, or a consumer holds messages
   * unacknowledged (only deleting the queue takes them back).
   */
  redeclare: ReadonlySet<string>
}

/** Converges `now` (the vhost as read) to `target`; returns what was touched, for the report. */
export async function converge(s: BrokerSession, target: VhostImage, now: VhostState, plan: ConvergePlan, exclude: readonly string[] = []): Promise<string[]> {
  const touched: string[] = []
  const t = target.state
  // Without rig's agent only the watched queues' messages are known: their definitions are not.
  if (!t.complete) return resetMessagesOnly(s, target, now, plan)
  const ch = await s.confirmChannel()
  try {
    for (const [name, q] of now.queues) {
      const wanted = t.queues.get(name)
      if (!wanted || plan.redeclare.has(name) || queueDefKey(wanted) !== queueDefKey(q)) {
        await deleteQueue(s, name)
        touched.push(`queue ${name} deleted`)
      }
    }
    for (const [name, x] of now.exchanges) {
      const wanted = t.exchanges.get(name)
      if (!wanted || exchangeDefKey(wanted) !== exchangeDefKey(x)) {
        await ch.deleteExchange(name)
        touched.push(`exchange ${name} deleted`)
      }
    }
    for (const [name, x] of t.exchanges) {
      const had = now.exchanges.get(name)
      if (had && exchangeDefKey(had) === exchangeDefKey(x)) continue
      await ch.assertExchange(name, x.type, { durable: x.durable, autoDelete: x.autoDelete, internal: x.internal, arguments: toTable(x.arguments) })
      touched.push(`exchange ${name} declared`)
    }
    for (const [name, q] of t.queues) {
      const had = now.queues.get(name)
      const redeclared = !had || plan.redeclare.has(name) || queueDefKey(had) !== queueDefKey(q)
      // An exclusive queue belongs to its connection: only that connection can declare it.
      if (redeclared && !q.exclusive) {
        await ch.assertQueue(name, { durable: q.durable, autoDelete: q.autoDelete, arguments: toTable(q.arguments) })
        touched.push(`queue ${name} declared`)
      }
      if (!redeclared && plan.resetMessages.has(name)) {
        await ch.purgeQueue(name)
        touched.push(`queue ${name} purged`)
      }
      if ((redeclared && !q.exclusive) || plan.resetMessages.has(name)) await publishMessages(ch, name, target.messages.get(name) ?? [], s.user)
    }
    // Bindings last: declaring and deleting above removed some and made room for others.
    // Purging and publishing leave bindings alone: read them again only when something was
    // deleted or declared.
    const after = touched.some((x) => !x.endsWith(' purged')) ? await s.read(exclude, [...t.queues.keys()]) : now
    const bind = (b: BindingDef, add: boolean): Promise<unknown> => {
      const args = toTable(b.arguments)
      if (b.destinationKind === 'queue') return add ? ch.bindQueue(b.destination, b.source, b.routingKey, args) : ch.unbindQueue(b.destination, b.source, b.routingKey, args)
      return add ? ch.bindExchange(b.destination, b.source, b.routingKey, args) : ch.unbindExchange(b.destination, b.source, b.routingKey, args)
    }
    for (const [key, b] of after.bindings) {
      if (t.bindings.has(key)) continue
      await bind(b, false)
      touched.push(`binding ${b.source} → ${b.destination} removed`)
    }
    const exists = (kind: 'queue' | 'exchange', name: string): boolean => (kind === 'queue' ? after.queues.has(name) : name.startsWith('amq.') || after.exchanges.has(name))
    for (const [key, b] of t.bindings) {
      if (after.bindings.has(key) || !exists('exchange', b.source) || !exists(b.destinationKind, b.destination)) continue
      await bind(b, true)
      touched.push(`binding ${b.source} → ${b.destination} added`)
    }
  } catch (err) {
    // A refused operation closes the channel: the next convergence opens another.
    s.dropConfirmChannel()
    throw err
  }
  return touched
}

async function resetMessagesOnly(s: BrokerSession, target: VhostImage, now: VhostState, plan: ConvergePlan): Promise<string[]> {
  const ch = await s.channel(true)
  const touched: string[] = []
  try {
    for (const name of new Set([...plan.resetMessages, ...plan.redeclare])) {
      if (!now.queues.has(name)) continue
      await ch.purgeQueue(name)
      await publishMessages(ch, name, target.messages.get(name) ?? [], s.user)
      touched.push(`queue ${name} purged`)
    }
  } finally {
    await ch.close().catch(() => {})
  }
  const gone = [...target.state.queues.keys()].filter((q) => !now.queues.has(q))
  if (gone.length > 0) {
    throw new Error(`${gone.map((q) => `queue ${q}`).join(', ')} was deleted, and rig does not know its definition on a broker it did not start: declare it again`)
  }
  return touched
}
