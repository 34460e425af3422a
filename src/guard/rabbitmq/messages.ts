// Queued messages as the guard keeps them (fixture messages at baseline, every message in a
// snapshot): read without consuming them, put back by publishing copies.
import type { AmqpChannel, AmqpMessage, AmqpProperties } from '../../drivers/amqp.ts'

/** A message as kept: its body and properties (headers keep their AMQP types). */
export interface StoredMessage {
  content: Buffer
  properties: AmqpProperties
}

/**
 * Every ready message of `queue`, in order. They are fetched unacknowledged and handed back
 * (requeued) at once, so the queue keeps them, marked redelivered.
 */
export async function readMessages(ch: AmqpChannel, queue: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = []
  let last: AmqpMessage | undefined
  for (;;) {
    const m = await ch.get(queue, { noAck: false })
    if (m === false) break
    last = m
    out.push({ content: Buffer.from(m.content), properties: cleanProperties(m.properties) })
  }
  if (last) ch.nack(last, true, true)
  return out
}

function cleanProperties(p: AmqpProperties): AmqpProperties {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as AmqpProperties
}

/**
 * Publishes `messages` to `queue` through the default exchange and waits for the broker's
 * confirms (`ch` is a confirm channel). A `userId` other than the publishing user's would be
 * refused by the broker: it is left out.
 */
export async function publishMessages(ch: AmqpChannel, queue: string, messages: readonly StoredMessage[], user: string): Promise<void> {
  if (messages.length === 0) return
  for (const m of messages) {
    const { userId, ...props } = m.properties
    ch.publish('', queue, m.content, userId === user ? { ...props, userId } : props)
  }
  await ch.waitForConfirms()
}

/** JSON for snapshot files: bodies and binary header values as base64. */
export function messagesToJson(messages: readonly StoredMessage[]): unknown[] {
  const enc = (v: unknown): unknown => {
    if (Buffer.isBuffer(v)) return { '!bytes': v.toString('base64') }
    if (Array.isArray(v)) return v.map(enc)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]))
    return v
  }
  return messages.map((m) => ({ content: m.content.toString('base64'), properties: enc(m.properties) }))
}

/** Reads what {@link messagesToJson} wrote. */
export function messagesFromJson(data: unknown): StoredMessage[] {
  const dec = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dec)
    if (v && typeof v === 'object') {
      if ('!bytes' in v) return Buffer.from(String((v as Record<string, unknown>)['!bytes']), 'base64')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dec(x)]))
    }
    return v
  }
  return (data as Array<{ content: string; properties: unknown }>).map((m) => ({ content: Buffer.from(m.content, 'base64'), properties: dec(m.properties) as AmqpProperties }))
}
