// What a vhost holds, as the guard compares it: queues (definition and message counts),
// exchanges and bindings. Read from rig's agent in one round trip, or, on a broker rig did not
// start, from passive declares of the queues the user names.
import type { AmqpChannel, AmqpConnection, AmqpTable } from '../../drivers/amqp.ts'
import { matchesAny } from '../patterns.ts'
import type { AgentClient } from './agent-client.ts'

/** An AMQP field-table entry with its type, as the broker holds it: `[name, type, value]`. */
export type TypedField = [name: string, type: string, value: unknown]

/** How a queue was declared. */
export interface QueueDef {
  name: string
  /** `classic`, `quorum`, `stream`. */
  type: string
  durable: boolean
  autoDelete: boolean
  /** Owned by one connection: never declared again by the guard. */
  exclusive: boolean
  arguments: TypedField[]
}

/** A queue now: its definition and messages. */
export interface QueueState extends QueueDef {
  ready: number
  unacked: number
  consumers: number
}

/** How an exchange was declared. */
export interface ExchangeDef {
  name: string
  type: string
  durable: boolean
  autoDelete: boolean
  internal: boolean
  arguments: TypedField[]
}

/** A binding from an exchange to a queue or another exchange. */
export interface BindingDef {
  source: string
  destination: string
  destinationKind: 'queue' | 'exchange'
  routingKey: string
  arguments: TypedField[]
}

/** A vhost's queues, exchanges and bindings, each by a key. */
export interface VhostState {
  queues: Map<string, QueueState>
  exchanges: Map<string, ExchangeDef>
  bindings: Map<string, BindingDef>
  /** False when the broker has no agent: only the watched queues are known. */
  complete: boolean
}

/** Identity of a binding. */
export const bindingKey = (b: BindingDef): string => JSON.stringify([b.source, b.destinationKind, b.destination, b.routingKey, b.arguments])

/** The definition part of a queue, for "was it redeclared differently?". */
export const queueDefKey = (q: QueueDef): string => JSON.stringify([q.type, q.durable, q.autoDelete, q.exclusive, q.arguments])

export const exchangeDefKey = (x: ExchangeDef): string => JSON.stringify([x.type, x.durable, x.autoDelete, x.internal, x.arguments])

/** Exchanges every vhost has and clients cannot declare nor delete. */
const builtIn = (name: string): boolean => name === '' || name.startsWith('amq.')

interface AgentQueue {
  name: string
  type?: string
  durable?: boolean
  auto_delete?: boolean
  exclusive?: unknown
  arguments?: TypedField[]
  messages_ready?: number
  messages_unacknowledged?: number
  consumers?: number
  error?: string
}

interface AgentInspect {
  queues: AgentQueue[]
  exchanges: Array<{ name: string; type: string; durable: boolean; auto_delete: boolean; internal: boolean; arguments: TypedField[] }>
  bindings: Array<{ source_name: string; destination_name: string; destination_kind: string; routing_key: string; arguments: TypedField[] }>
}

/** The vhost as rig's agent sees it; names matching `exclude` are left out. */
export async function inspectVhost(agent: AgentClient, vhost: string, exclude: readonly string[]): Promise<VhostState> {
  const r = await agent.request<AgentInspect>({ op: 'inspect', vhost })
  const out: VhostState = { queues: new Map(), exchanges: new Map(), bindings: new Map(), complete: true }
  for (const q of r.queues) {
    if (matchesAny(q.name, exclude)) continue
    // A queue process that did not answer (it crashed, or went away mid-inspection).
    if (q.error !== undefined) throw new Error(`queue "${q.name}" did not answer: ${q.error}`)
    out.queues.set(q.name, {
      name: q.name,
      type: q.type ?? 'classic',
      durable: q.durable === true,
      autoDelete: q.auto_delete === true,
      exclusive: q.exclusive === true,
      arguments: q.arguments ?? [],
      ready: q.messages_ready ?? 0,
      unacked: q.messages_unacknowledged ?? 0,
      consumers: q.consumers ?? 0,
    })
  }
  for (const x of r.exchanges) {
    if (builtIn(x.name) || matchesAny(x.name, exclude)) continue
    out.exchanges.set(x.name, { name: x.name, type: x.type, durable: x.durable, autoDelete: x.auto_delete, internal: x.internal, arguments: x.arguments })
  }
  for (const b of r.bindings) {
    // Every queue's binding from the default exchange is implicit.
    if (b.source_name === '' || matchesAny(b.source_name, exclude) || matchesAny(b.destination_name, exclude)) continue
    const def: BindingDef = { source: b.source_name, destination: b.destination_name, destinationKind: b.destination_kind === 'exchange' ? 'exchange' : 'queue', routingKey: b.routing_key, arguments: b.arguments }
    out.bindings.set(bindingKey(def), def)
  }
  return out
}

/**
 * The named queues through passive declares, for a broker without rig's agent: existence and
 * ready messages only (AMQP cannot tell unacknowledged ones, nor list what else exists).
 */
export async function watchQueues(conn: AmqpConnection, names: readonly string[]): Promise<VhostState> {
  const out: VhostState = { queues: new Map(), exchanges: new Map(), bindings: new Map(), complete: false }
  let ch: AmqpChannel | undefined
  for (const name of names) {
    if (!ch) {
      ch = await conn.createChannel()
      ch.on('error', () => {})
    }
    try {
      const q = await ch.checkQueue(name)
      out.queues.set(name, { name, type: 'classic', durable: true, autoDelete: false, exclusive: false, arguments: [], ready: q.messageCount, unacked: 0, consumers: q.consumerCount })
    } catch {
      // 404: the queue does not exist, and the broker closed the channel.
      ch = undefined
    }
  }
  await ch?.close().catch(() => {})
  return out
}

const NUMERIC: Record<string, string> = { signedint: 'int', long: 'long', short: 'short', byte: 'byte', unsignedbyte: 'unsignedbyte', unsignedshort: 'unsignedshort', unsignedint: 'unsignedint', double: 'double', float: 'float', timestamp: 'timestamp' }

/** A typed value as amqplib encodes it back to the same AMQP type. */
function toAmqplib(type: string, value: unknown): unknown {
  const b64 = (v: unknown): Buffer => Buffer.from(String((v as { base64?: unknown })?.base64 ?? ''), 'base64')
  switch (type) {
    case 'longstr':
      return typeof value === 'string' ? value : b64(value)
    case 'binary':
      return b64(value)
    case 'bool':
      return value === true
    case 'void':
      return null
    case 'table':
      return toTable(value as TypedField[])
    case 'array':
      return (value as Array<[string, unknown]>).map(([t, v]) => toAmqplib(t, v))
    case 'decimal': {
      const [places, digits] = value as [number, number]
      return { '!': 'decimal', value: { places, digits } }
    }
    default:
      return NUMERIC[type] ? { '!': NUMERIC[type], value } : value
  }
}

/** A typed field table as amqplib's `arguments`. */
export function toTable(fields: readonly TypedField[]): AmqpTable {
  return Object.fromEntries(fields.map(([k, t, v]) => [k, toAmqplib(t, v)]))
}
