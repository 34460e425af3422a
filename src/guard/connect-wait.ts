// How long rig waits for a connection it needs after each test: the guard's to a PostgreSQL
// store (src/guard/postgres/connection.ts) and a test worker's to the run's guard host
// (src/runner/guard-client.ts). One budget, one variable: RIG_GUARD_CONNECT_TIMEOUT_MS. Kept
// apart from the PostgreSQL code so that a worker that only talks to the guard host loads none of it.
import { GuardUsageError } from './errors.ts'

/** How long the guard waits for a connection, all attempts together, unless told otherwise. */
export const DEFAULT_CONNECT_WAIT_MS = 60_000

/** How long to wait for a connection: `option`, else `RIG_GUARD_CONNECT_TIMEOUT_MS`, else {@link DEFAULT_CONNECT_WAIT_MS}. */
export function connectWaitMs(option?: number): number {
  const env = process.env.RIG_GUARD_CONNECT_TIMEOUT_MS
  const v = option ?? (env !== undefined && env !== '' ? Number(env) : DEFAULT_CONNECT_WAIT_MS)
  if (!Number.isFinite(v) || v <= 0) {
    throw new GuardUsageError('RIG_GUARD_BAD_CONNECT_TIMEOUT', `the guard's connect timeout must be a number of milliseconds above 0, got ${JSON.stringify(option ?? env)} (option \`connectTimeoutMs\` or RIG_GUARD_CONNECT_TIMEOUT_MS)`)
  }
  return v
}
