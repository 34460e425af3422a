// Fixture files for RabbitMQ: JSON naming exchanges, queues, bindings and messages to publish,
// e.g. `{ "queues": [{ "name": "billing.jobs" }], "messages": [{ "queue": "billing.jobs", "body": { "rental": 1 } }] }`.
// Declared through AMQP in that order; an error names the entry.
import type { AmqpProperties, AmqpTable } from '../../drivers/amqp.ts'
import type { BrokerSession } from './broker-session.ts'

interface Definitions {
  exchanges?: Array<{ name: string; type?: string; durable?: boolean; autoDelete?: boolean; internal?: boolean; arguments?: AmqpTable }>
  queues?: Array<{ name: string; durable?: boolean; autoDelete?: boolean; arguments?: AmqpTable }>
  bindings?: Array<{ source: string; destination: string; destinationType?: 'queue' | 'exchange'; routingKey?: string; arguments?: AmqpTable }>
  messages?: Array<{ queue?: string; exchange?: string; routingKey?: string; body: unknown; properties?: AmqpProperties }>
}

/** Declares and publishes what `text` (the JSON above) says. */
export async function loadDefinitions(s: BrokerSession, text: string): Promise<void> {
  let defs: Definitions
  try {
    defs = JSON.parse(text) as Definitions
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`)
  }
  if (!defs || typeof defs !== 'object' || Array.isArray(defs)) throw new Error('expected an object with "exchanges", "queues", "bindings" and/or "messages"')
  const ch = await s.channel(true)
  let where = ''
  try {
    for (const [i, x] of (defs.exchanges ?? []).entries()) {
      where = `exchanges[${i}]`
      await ch.assertExchange(x.name, x.type ?? 'direct', { durable: x.durable ?? true, autoDelete: x.autoDelete ?? false, internal: x.internal ?? false, ...(x.arguments ? { arguments: x.arguments } : {}) })
    }
    for (const [i, q] of (defs.queues ?? []).entries()) {
      where = `queues[${i}]`
      await ch.assertQueue(q.name, { durable: q.durable ?? true, autoDelete: q.autoDelete ?? false, ...(q.arguments ? { arguments: q.arguments } : {}) })
    }
    for (const [i, b] of (defs.bindings ?? []).entries()) {
      where = `bindings[${i}]`
      if (b.destinationType === 'exchange') await ch.bindExchange(b.destination, b.source, b.routingKey ?? '', b.arguments)
      else await ch.bindQueue(b.destination, b.source, b.routingKey ?? '', b.arguments)
    }
    for (const [i, m] of (defs.messages ?? []).entries()) {
      where = `messages[${i}]`
      if (m.queue === undefined && m.exchange === undefined) throw new Error('a message needs a "queue" or an "exchange"')
      const json = typeof m.body !== 'string'
      const content = Buffer.from(json ? JSON.stringify(m.body) : (m.body as string), 'utf8')
      ch.publish(m.exchange ?? '', m.queue ?? m.routingKey ?? '', content, { ...(json ? { contentType: 'application/json' } : {}), ...m.properties })
    }
    where = 'messages'
    await ch.waitForConfirms()
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`, { cause: err })
  } finally {
    await ch.close().catch(() => {})
  }
}
