// Named snapshots of one vhost, as files: its queues, exchanges and bindings, and every ready
// message. A broker rig started keeps them in its environment's directory (gone with it);
// another broker's go to rig's cache, keyed by address and vhost.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseAmqpUrl } from '../../drivers/amqp-handshake.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { SnapshotNotFoundError } from '../errors.ts'
import { checkSnapshotName } from '../postgres/postgres-snapshots.ts'
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
  private readonly store: string
  private readonly dir: () => Promise<string>

  constructor(store: string, dir: () => Promise<string>) {
    this.store = store
    this.dir = dir
  }

  private async file(name: string): Promise<string> {
    checkSnapshotName(name)
    return path.join(await this.dir(), `${name}.json`)
  }

  /** Writes `image` as snapshot `name` (readable by rig's user only: it holds message bodies). */
  async save(name: string, vhost: string, image: VhostImage): Promise<void> {
    const file = await this.file(name)
    const data: SnapshotFile = {
      version: 1,
      vhost,
      queues: [...image.state.queues.values()],
      exchanges: [...image.state.exchanges.values()],
      bindings: [...image.state.bindings.values()],
      messages: Object.fromEntries([...image.messages].map(([q, m]) => [q, messagesToJson(m)])),
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600, flag: 'wx' })
    fs.renameSync(tmp, file)
  }

  /** Reads snapshot `name`. */
  async load(name: string): Promise<VhostImage> {
    const file = await this.file(name)
    let data: SnapshotFile
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotFile
    } catch {
      throw new SnapshotNotFoundError(name, this.store, await this.list())
    }
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

  async list(): Promise<string[]> {
    try {
      return fs
        .readdirSync(await this.dir())
        .filter((f) => f.endsWith('.json') && !f.startsWith('__'))
        .map((f) => f.slice(0, -5))
        .sort()
    } catch {
      return []
    }
  }

  async drop(name: string): Promise<boolean> {
    const file = await this.file(name)
    const existed = fs.existsSync(file)
    fs.rmSync(file, { force: true })
    return existed
  }
}
