// The subset of the official `redis` client (v5) rig calls; rig never imports the driver's own
// types, so the package stays an optional peer loaded on first use.
import type { ConnectionOptions } from 'node:tls'
import { redisTlsOptions } from '../tls/client-trust.ts'
import { loadDriver } from './load-driver.ts'

/** A raw reply; blob strings are Buffers when asked with {@link BUFFER_REPLIES}. */
export type RedisReply = string | number | Buffer | null | RedisReply[]

/** Per-command options rig passes. */
export interface RedisCommandOptions {
  /** RESP type → JS constructor, e.g. `{ 36: Buffer }` to read binary values. */
  typeMapping?: Record<number, unknown>
}

/** Reply mapping that returns blob strings (values, DUMP payloads) as Buffers. */
export const BUFFER_REPLIES: RedisCommandOptions = { typeMapping: { 36: Buffer } }

/** A connected client. Commands sent without awaiting each other are pipelined by the driver. */
export interface RedisClient {
  connect(): Promise<unknown>
  sendCommand<T = RedisReply>(args: ReadonlyArray<string | Buffer>, options?: RedisCommandOptions): Promise<T>
  /** Closes the connection without waiting for pending replies. */
  destroy(): void
  on(event: 'error', listener: (err: Error) => void): unknown
  readonly isReady: boolean
  /**
   * Pub/Sub: after the first subscription the connection takes no other commands. With
   * `bufferMode` the listener gets the message and the channel as Buffers (keys are bytes).
   */
  subscribe(channels: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>
  pSubscribe(patterns: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>
}

interface RedisModule {
  createClient(options: { url: string; socket?: { connectTimeout?: number; reconnectStrategy?: false; tls?: boolean } & ConnectionOptions }): RedisClient
}

/**
 * Opens a client to `url` that never reconnects by itself: a server that went away must
 * surface as an error, not as commands queued forever. A `rediss://` URL is reached over TLS,
 * its certificate verified against `ca` (a CA file) and rig's CAs (`src/tls/client-trust.ts`).
 */
export async function connectRedis(url: string, options: { timeoutMs?: number; purpose?: string; ca?: string } = {}): Promise<RedisClient> {
  const mod = await loadDriver<RedisModule & { default?: RedisModule }>('redis', options.purpose ?? 'the Redis guard')
  const { createClient } = mod.default?.createClient ? mod.default : mod
  const secure = redisTlsOptions(url, options.ca)
  const client = createClient({ url, socket: { connectTimeout: options.timeoutMs ?? 5000, reconnectStrategy: false, ...(secure ? { tls: true, ...secure } : {}) } })
  client.on('error', () => {})
  try {
    await client.connect()
    return client
  } catch (err) {
    client.destroy()
    throw err
  }
}
