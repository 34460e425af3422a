// Worker side of the guard host (src/runner/guard-host.ts): the guard session of a test file as
// requests to the runner's main process, which holds the sessions for the whole run. A worker
// then loads no guard code and opens no connection of its own.
import { RigError } from '../errors.ts'
import { unixRequest, type UnixRequestError, type UnixResponse } from '../env/unix-http.ts'
import { connectWaitMs } from '../guard/connect-wait.ts'
import type { EndedTest, GuardSession } from './guard-session.ts'
import type { CheckAnswer, GuardRequest } from './guard-host.ts'

/** Who holds the guard host, for the messages below. */
const HOST = "the guard host of this run (the test runner's main process, which holds the guard for the whole run)"

/**
 * The request `op` could not be made: a clear error that says why and what to do. A socket that
 * is gone or that nobody listens on is a host that ended (the runner's main process exited or
 * closed it): waiting does not bring it back.
 */
function unreachable(socketPath: string, op: string, err: UnixRequestError, attempts: number, waitMs: number): RigError {
  const code = err.code ?? ''
  if (err.beforeConnect && (code === 'ENOENT' || code === 'ECONNREFUSED')) {
    return new RigError(
      'RIG_GUARD_HOST_GONE',
      `rig: this test worker cannot reach ${HOST} at ${socketPath} (${code}): that process has ended or closed it, so this worker outlived its run (a process a test started and left running, or a runner killed mid-run). ` +
        'Run the tests through the runner with rig set up (its global setup starts the host), or set RIG_GUARD_HOST=off for the run to have each test file open the guard itself.',
      { cause: err },
    )
  }
  if (err.beforeConnect) {
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
    return new RigError(
      'RIG_GUARD_HOST_TIMEOUT',
      `rig: ${HOST} did not take this worker's "${op}" request within ${Math.round(waitMs / 100) / 10} s (${tries}, the last: ${err.message}). ` +
        'The machine is probably overloaded, or the main process is blocked: run fewer workers, or wait longer with RIG_GUARD_CONNECT_TIMEOUT_MS (ms).',
      { cause: err },
    )
  }
  return new RigError('RIG_GUARD_HOST', `rig: ${HOST} stopped answering during "${op}": ${err.message}`, { cause: err })
}

/**
 * One request to the guard host; its errors come back with their name, code and message. A
 * connection the host's listen queue cannot take now (EAGAIN, many workers at once) is tried
 * again within the guard's connect wait (RIG_GUARD_CONNECT_TIMEOUT_MS, 60 s by default); once
 * sent, a request is never sent twice (a check restores: a second one would find nothing).
 */
async function ask<T>(socketPath: string, op: string, body: GuardRequest): Promise<T> {
  const waitMs = connectWaitMs()
  const deadline = performance.now() + waitMs
  const payload = JSON.stringify(body)
  let res: UnixResponse
  for (let attempt = 1; ; attempt++) {
    try {
      // No deadline once connected: a check takes what the stores take (the guard's own deadlines and the runner's test timeout bound it).
      res = await unixRequest(socketPath, 'POST', `/${op}`, payload, 0, undefined, Math.max(1, deadline - performance.now()))
      break
    } catch (err) {
      const e = err as UnixRequestError
      const left = deadline - performance.now()
      if (!e.beforeConnect || (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK') || left <= 0) throw unreachable(socketPath, op, e, attempt, waitMs)
      await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 200, left)))
    }
  }
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

/** A guard session held by the guard host. */
export interface RemoteGuardSession extends GuardSession {
  /**
   * The check, with the environment's status taken as the host got the request (when it runs
   * the environment): no check is made when the status confirms that one of `gone` exited.
   */
  checkWithStatus(test: EndedTest, allowed: true | Set<string>, gone: string[]): Promise<CheckAnswer>
}

/** The "file ended" request of this worker's last file, when it was sent without waiting for the answer. */
let ending: Promise<unknown> | undefined

/**
 * The guard session of this test file, held by the guard host at `socket` for worker `worker`
 * (its copies); undefined when it guards nothing. Opening it tells the host a file begins;
 * `close` that it ended (the host puts back the run's baseline when the file loaded a fixture).
 *
 * A file that loaded no fixture does not wait for the answer to "ended": its last check already
 * put the stores back, and the host's requests on one session run in the order they arrive.
 * Should the request be lost (Vitest ends a file's worker as soon as the file is done), the host
 * takes the next file's `open` on a session still in a file for a worker that died, and puts
 * the stores back quietly: a diff that finds nothing. A worker that runs several files (`isolate:
 * false`) sends the next `open` once that answer is in; a file of another worker may begin
 * first, and the host ignores an "ended" that is not the current file's.
 */
export async function remoteGuardSession(socket: string, worker: number): Promise<RemoteGuardSession | undefined> {
  await ending
  // Its "ended" may reach the host after the next file's "open" (another worker process): the host then ignores it.
  const file = Math.random().toString(36).slice(2, 12)
  const opened = await ask<{ guarded: boolean }>(socket, 'open', { worker, file })
  if (!opened.guarded) return undefined
  const listed = (allowed: true | Set<string>): true | string[] => (allowed === true ? true : [...allowed])
  let fixtureLoaded = false
  return {
    check: (test, allowed) => ask(socket, 'check', { worker, test, allowed: listed(allowed) }),
    checkWithStatus: (test, allowed, gone) => ask(socket, 'check', { worker, test, allowed: listed(allowed), status: true, ...(gone.length > 0 ? { gone } : {}) }),
    settle: async () => void (await ask(socket, 'settle', { worker })),
    useFixture: async (fixture) => {
      fixtureLoaded = true
      await ask(socket, 'fixture', { worker, fixture })
    },
    // Done by `close`, in the same request.
    resetFixture: async () => {},
    restore: async () => {},
    close: async () => {
      const ended = ask(socket, 'end', { worker, file })
      // A fixture's reset can fail: the file that loaded it hears about it.
      if (fixtureLoaded) return void (await ended)
      ending = ended.catch(() => {})
    },
  }
}
