// Deleting a queue whoever owns it: rig's agent deletes exclusive queues too (a connection the
// test left open owns them); without an agent, AMQP does, on a channel of its own since a
// refusal closes the channel it happened on.
import type { BrokerSession } from './broker-session.ts'

/** Deletes queue `name` of the session's vhost; a queue already gone is fine. */
export async function deleteQueue(s: BrokerSession, name: string, vhost = s.vhost): Promise<void> {
  if (s.agent) {
    await s.agent.request({ op: 'delete_queue', vhost, name })
    return
  }
  const ch = await s.channel()
  try {
    await ch.deleteQueue(name)
  } finally {
    await ch.close().catch(() => {})
  }
}
