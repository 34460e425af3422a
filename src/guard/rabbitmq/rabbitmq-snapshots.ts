// Named snapshots of one vhost, as files: its queues, exchanges and bindings, and every ready
// message. A broker rig started keeps them in its environment's directory (gone with it);
// another broker's go to rig's cache, keyed by address and vhost.
import { createHash } from 'node:crypto'
import path from 'node:path'
import { parseAmqpUrl } from '../../drivers/amqp-handshake.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { SnapshotFiles } from '../snapshot-files.ts'
import type { BrokerSession, VhostImage } from './broker-session.ts'
import { messagesFromJson, messagesToJson } from './messages.ts'
import { bindingKey, type BindingDef, type ExchangeDef, type QueueState } from './topology.ts'

interface SnapshotFile {
  version: 1
  vhost: string
  queues: QueueState[]
  exchanges: ExchangeDef[]
  bindings: BindingDef[]
  messages: Record<string, unknown[]>
}

/** Where the snapshots of the session's vhost live. */
export function snapshotDir(s: BrokerSession, url: string, explicit?: string): string {
  const vhost = Buffer.from(s.vhost, 'utf8').toString('hex') || 'default'
  if (explicit) return path.join(explicit, vhost)
  if (s.home) return path.join(s.home.envDir, 'rabbitmq-snapshots', s.home.service, vhost)
  const a = parseAmqpUrl(url)
  const key = createHash('sha256').update(`${a.host}:${a.port}/${s.vhost}`).digest('hex').slice(0, 16)
  return path.join(cacheRoot(), 'rabbitmq-snapshots', key)
}

/** Snapshots of one vhost. */
export class RabbitmqSnapshots {
  private readonly files: SnapshotFiles<SnapshotFile>

  constructor(store: string, dir: () => Promise<string>) {
    this.files = new SnapshotFiles<SnapshotFile>(store, dir, (data) => {
      if (data.version !== 1 || !Array.isArray(data.queues) || !Array.isArray(data.exchanges) || !Array.isArray(data.bindings)) throw new Error(`version ${String(data.version)}, expected 1`)
    })
  }

  /** Writes `image` as snapshot `name` (readable by rig's user only: it holds message bodies). */
  save(name: string, vhost: string, image: VhostImage): Promise<void> {
    return this.files.write(name, {
      version: 1,
      vhost,
      queues: [...image.state.queues.values()],
      exchanges: [...image.state.exchanges.values()],
      bindings: [...image.state.bindings.values()],
      messages: Object.fromEntries([...image.messages].map(([q, m]) => [q, messagesToJson(m)])),
    })
  }

  /** Reads snapshot `name`. */
  async load(name: string): Promise<VhostImage> {
    const data = await this.files.read(name)
    return {
      state: {
        queues: new Map(data.queues.map((q) => [q.name, q])),
        exchanges: new Map(data.exchanges.map((x) => [x.name, x])),
        bindings: new Map(data.bindings.map((b) => [bindingKey(b), b])),
        complete: true,
      },
      messages: new Map(Object.entries(data.messages).map(([q, m]) => [q, messagesFromJson(m)])),
    }
  }

  list(): Promise<string[]> {
    return this.files.list()
  }

  drop(name: string): Promise<boolean> {
    return this.files.drop(name)
  }
}
