// Worker side of the guard host (src/runner/guard-host.ts): the guard session of a test file as
// requests to the runner's main process, which holds the sessions for the whole run. A worker
// then loads no guard code and opens no connection of its own.
import { RigError } from '../errors.ts'
import { unixRequest } from '../env/unix-http.ts'
import type { GuardSession } from './guard-session.ts'
import type { GuardRequest } from './guard-host.ts'

/** One request to the guard host; its errors come back with their name, code and message. */
async function ask<T>(socketPath: string, op: string, body: GuardRequest): Promise<T> {
  // No deadline of its own: a check takes what the stores take (the guard's own deadlines and the runner's test timeout bound it).
  const res = await unixRequest(socketPath, 'POST', `/${op}`, JSON.stringify(body)).catch((err: Error) => {
    throw new RigError('RIG_GUARD_HOST', `the guard host of this run (the runner's main process) did not answer: ${err.message}`)
  })
  let parsed: { error?: string; name?: string; code?: string } & Record<string, unknown>
  try {
    parsed = JSON.parse(res.body)
  } catch {
    throw new RigError('RIG_GUARD_HOST', `the guard host answered with something unexpected: ${res.body.slice(0, 200)}`)
  }
  if (res.status < 400) return parsed as T
  const err = parsed.code ? new RigError(parsed.code, parsed.error ?? '') : new Error(parsed.error ?? `HTTP ${res.status}`)
  err.name = parsed.name ?? err.name
  throw err
}

/**
 * The guard session of this test file, held by the guard host at `socket` for worker `worker`
 * (its copies); undefined when it guards nothing. Opening it tells the host a file begins;
 * `close` that it ended (the host puts back the run's baseline when the file loaded a fixture).
 */
export async function remoteGuardSession(socket: string, worker: number): Promise<GuardSession | undefined> {
  const opened = await ask<{ guarded: boolean }>(socket, 'open', { worker })
  if (!opened.guarded) return undefined
  return {
    check: (test, allowed) => ask(socket, 'check', { worker, test, allowed: allowed === true ? true : [...allowed] }),
    settle: async () => void (await ask(socket, 'settle', { worker })),
    useFixture: async (fixture) => void (await ask(socket, 'fixture', { worker, fixture })),
    // Done by `close`, in the same request.
    resetFixture: async () => {},
    restore: async () => {},
    close: async () => void (await ask(socket, 'end', { worker })),
  }
}
