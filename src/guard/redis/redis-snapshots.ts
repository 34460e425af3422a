// Named snapshots of one Redis database, as files: every key (as bytes) with its DUMP payload
// and TTL. The directory is keyed by the server's address and data directory: stable across
// a restart (rig restart cache), distinct for every environment rig starts (each service has
// its own directory), so a snapshot never leaks into another server on the same port.
import { createHash } from 'node:crypto'
import type { RedisClient } from '../../drivers/redis.ts'
import { tempDir } from '../../fs-safe/temp-root.ts'
import { GuardRestoreError } from '../errors.ts'
import { SnapshotFiles } from '../snapshot-files.ts'
import { keyBuffer, keyBytes, type KeyState, readKeys, restoreKey, scanKeys } from './key-space.ts'

/** Bumped when the file layout changes; files of another format are refused, not misread. */
const FORMAT = 2

interface SnapshotFile {
  format: typeof FORMAT
  /** Key bytes and DUMP payload in base64, remaining TTL in ms (-1: none). */
  keys: Array<[key: string, dump: string, ttlMs: number]>
}

/**
 * What names a Redis server across restarts: its address and its data directory (`CONFIG GET
 * dir`; rig gives every service its own). Not the run_id: it changes with every restart.
 */
export async function serverKey(client: RedisClient, url: string): Promise<string> {
  const u = new URL(url)
  let dir = ''
  try {
    const reply = await client.sendCommand<string[]>(['CONFIG', 'GET', 'dir'])
    dir = String(reply[1] ?? '')
  } catch {
    // CONFIG renamed or refused to this user: the address alone.
  }
  return createHash('sha256').update(`${u.hostname}:${u.port || 6379}\0${dir}`).digest('hex').slice(0, 20)
}

/**
 * Where snapshots of a server live unless `snapshotDir` says otherwise: in this user's private
 * temp root (never a directory every user can create, like `/tmp/rig-redis-snapshots`).
 */
export async function defaultSnapshotDir(client: RedisClient, url: string, db: number): Promise<string> {
  return tempDir('redis-snapshots', await serverKey(client, url), `db${db}`)
}

/** Snapshots of one Redis database. */
export class RedisSnapshots {
  private readonly store: string
  private readonly files: SnapshotFiles<SnapshotFile>

  constructor(store: string, dir: () => Promise<string>) {
    this.store = store
    this.files = new SnapshotFiles<SnapshotFile>(store, dir, (data) => {
      if (data.format !== FORMAT || !Array.isArray(data.keys)) throw new Error(`format ${String(data.format ?? 1)}, expected ${FORMAT}`)
    })
  }

  /** Writes every key of the database to snapshot `name`. */
  async save(client: RedisClient, name: string): Promise<void> {
    const state = await readKeys(client, await scanKeys(client, ['*'], []))
    const now = Date.now()
    await this.files.write(name, {
      format: FORMAT,
      keys: [...state].map(([k, v]) => [keyBuffer(k).toString('base64'), v.dump.toString('base64'), v.expireAt === undefined ? -1 : Math.max(1, v.expireAt - now)]),
    })
  }

  /** Reads snapshot `name`; throws when it does not exist or cannot be read, before anything is touched. */
  read(name: string): Promise<SnapshotFile> {
    return this.files.read(name)
  }

  /** Empties the database and loads snapshot `name`. */
  async restore(client: RedisClient, name: string): Promise<void> {
    const snap = await this.read(name)
    try {
      await client.sendCommand(['FLUSHDB'])
    } catch (err) {
      throw new GuardRestoreError('RIG_SNAPSHOT_RESTORE_FAILED', this.store, `could not empty the database before restoring "${name}": ${(err as Error).message}`, err, true)
    }
    const now = Date.now()
    await Promise.all(
      snap.keys.map(([k, dump, ttl]) => {
        const state: KeyState = { dump: Buffer.from(dump, 'base64'), expireAt: ttl < 0 ? undefined : now + ttl }
        return restoreKey(client, keyBytes(Buffer.from(k, 'base64')), state)
      }),
    )
  }

  list(): Promise<string[]> {
    return this.files.list()
  }

  drop(name: string): Promise<boolean> {
    return this.files.drop(name)
  }
}
