// Named snapshots of one Redis database, as files: every key's DUMP payload and TTL. The
// directory is keyed by the server's run_id, so a snapshot never outlives the server it
// describes nor leaks into another one on the same port.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { RedisClient } from '../../drivers/redis.ts'
import { SnapshotNotFoundError } from '../errors.ts'
import { checkSnapshotName } from '../postgres/postgres-snapshots.ts'
import { type KeyState, readKeys, restoreKey, scanKeys } from './key-space.ts'

interface SnapshotFile {
  keys: Array<[key: string, dump: string, ttlMs: number]>
}

/** Where snapshots of a server live unless `snapshotDir` says otherwise. */
export async function defaultSnapshotDir(client: RedisClient, db: number): Promise<string> {
  const info = String(await client.sendCommand(['INFO', 'server']))
  const runId = /run_id:(\w+)/.exec(info)?.[1] ?? 'unknown'
  return path.join(os.tmpdir(), 'rig-redis-snapshots', runId, `db${db}`)
}

/** Snapshots of one Redis database. */
export class RedisSnapshots {
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

  /** Writes every key of the database to snapshot `name`. */
  async save(client: RedisClient, name: string): Promise<void> {
    const file = await this.file(name)
    const state = await readKeys(client, await scanKeys(client, ['*'], []))
    const now = Date.now()
    const data: SnapshotFile = { keys: [...state].map(([k, v]) => [k, v.dump.toString('base64'), v.expireAt === undefined ? -1 : Math.max(1, v.expireAt - now)]) }
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(data))
    fs.renameSync(`${file}.tmp`, file)
  }

  /** Empties the database and loads snapshot `name`. */
  async restore(client: RedisClient, name: string): Promise<void> {
    const file = await this.file(name)
    let data: SnapshotFile
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotFile
    } catch {
      throw new SnapshotNotFoundError(name, this.store, await this.list())
    }
    await client.sendCommand(['FLUSHDB'])
    const now = Date.now()
    await Promise.all(
      data.keys.map(([k, dump, ttl]) => {
        const state: KeyState = { dump: Buffer.from(dump, 'base64'), expireAt: ttl < 0 ? undefined : now + ttl }
        return restoreKey(client, k, state)
      }),
    )
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
