// Compares a vhost with its baseline and says it the way the leak message reads:
// `queue billing.jobs +2 messages (ready 2, unacked 0)`, `queue tmp.x created`,
// `binding events → audit (order.*) removed`.
import type { Change } from '../adapter.ts'
import type { ConvergePlan } from './converge.ts'
import { type BindingDef, exchangeDefKey, queueDefKey, type QueueState, type VhostState } from './topology.ts'

const messages = (n: number): string => `${n} message${n === 1 ? '' : 's'}`

function messageChange(base: QueueState, now: QueueState): Change | undefined {
  const delta = now.ready + now.unacked - (base.ready + base.unacked)
  if (now.ready === base.ready && now.unacked === base.unacked) return undefined
  const counts = `(ready ${now.ready}, unacked ${now.unacked})`
  const subject = `queue ${now.name}`
  if (delta > 0) return { subject, kind: 'added', count: delta, leak: true, text: `${subject} +${messages(delta)} ${counts}` }
  if (delta < 0) return { subject, kind: 'removed', count: -delta, leak: true, text: `${subject} -${messages(-delta)} ${counts}` }
  return { subject, kind: 'changed', count: now.unacked, leak: true, text: `${subject} ${messages(Math.abs(now.unacked - base.unacked))} unacknowledged ${counts}` }
}

const bindingText = (b: BindingDef): string => `binding ${b.source} → ${b.destination}${b.routingKey ? ` (${b.routingKey})` : ''}`

/** The changes between `base` and `now`, and what restoring them takes. */
export function compareVhost(base: VhostState, now: VhostState): { changes: Change[]; plan: ConvergePlan } {
  const changes: Change[] = []
  const resetMessages = new Set<string>()
  const redeclare = new Set<string>()
  for (const [name, q] of now.queues) {
    const b = base.queues.get(name)
    if (!b) {
      const n = q.ready + q.unacked
      changes.push({ subject: `queue ${name}`, kind: 'created', count: 1, leak: true, text: `queue ${name} created${n > 0 ? ` (${messages(n)})` : ''}` })
      continue
    }
    if (queueDefKey(b) !== queueDefKey(q)) {
      changes.push({ subject: `queue ${name}`, kind: 'changed', count: 1, leak: true, text: `queue ${name} declared again with other arguments` })
      redeclare.add(name)
      continue
    }
    const m = messageChange(b, q)
    if (!m) continue
    changes.push(m)
    // Messages a consumer holds unacknowledged come back only when the queue goes away.
    if (q.unacked > b.unacked) redeclare.add(name)
    else resetMessages.add(name)
  }
  for (const name of base.queues.keys()) {
    if (!now.queues.has(name)) changes.push({ subject: `queue ${name}`, kind: 'dropped', count: 1, leak: true, text: `queue ${name} deleted` })
  }
  for (const [name, x] of now.exchanges) {
    const b = base.exchanges.get(name)
    if (!b) changes.push({ subject: `exchange ${name}`, kind: 'created', count: 1, leak: true, text: `exchange ${name} created` })
    else if (exchangeDefKey(b) !== exchangeDefKey(x)) changes.push({ subject: `exchange ${name}`, kind: 'changed', count: 1, leak: true, text: `exchange ${name} declared again with other arguments` })
  }
  for (const name of base.exchanges.keys()) {
    if (!now.exchanges.has(name)) changes.push({ subject: `exchange ${name}`, kind: 'dropped', count: 1, leak: true, text: `exchange ${name} deleted` })
  }
  // A binding that came or went with its queue or exchange is part of that change already.
  const both = (b: BindingDef): boolean => {
    const present = (s: VhostState, kind: 'queue' | 'exchange', n: string): boolean => (kind === 'queue' ? s.queues.has(n) : n.startsWith('amq.') || s.exchanges.has(n))
    return present(base, 'exchange', b.source) && present(now, 'exchange', b.source) && present(base, b.destinationKind, b.destination) && present(now, b.destinationKind, b.destination)
  }
  for (const [key, b] of now.bindings) {
    if (!base.bindings.has(key) && both(b)) changes.push({ subject: bindingText(b), kind: 'created', count: 1, leak: true, text: `${bindingText(b)} added` })
  }
  for (const [key, b] of base.bindings) {
    if (!now.bindings.has(key) && both(b)) changes.push({ subject: bindingText(b), kind: 'dropped', count: 1, leak: true, text: `${bindingText(b)} removed` })
  }
  return { changes, plan: { resetMessages, redeclare } }
}
