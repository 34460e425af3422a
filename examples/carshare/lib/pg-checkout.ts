// A client checked out of a pg.Pool that survives its connection dying between two queries (the
// database failing over, a proxy cutting it). The pool listens for errors only on idle clients:
// a checked-out one with no listener turns a lost connection into an uncaught 'error' event,
// which takes the whole process down.
import type pg from 'pg'

export interface CheckedOut {
  client: pg.PoolClient
  /** Gives the client back; with `failed`, it is dropped instead of reused (its connection may be gone). */
  release(failed?: boolean): void
}

/** `pool.connect()`, with a lost connection logged as `ERROR postgres pool: <who>: …` instead of thrown. */
export async function checkOut(pool: pg.Pool, who: string): Promise<CheckedOut> {
  const client = await pool.connect()
  let lost = false
  const onError = (err: Error): void => {
    lost = true
    console.error(`ERROR postgres pool: ${who}: connection lost: ${err.message}`)
  }
  client.on('error', onError)
  return {
    client,
    release: (failed = false) => {
      client.off('error', onError)
      client.release(failed || lost)
    },
  }
}
