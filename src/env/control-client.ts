// The CLI calls this on every `rig status`, and test workers after a test when the run's guard
// host does not answer for the environment (src/runner/test-session.ts): the request goes over
// node:net alone (src/env/unix-http.ts), loaded in every process that starts, where node:http
// would cost a start or a test worker 5-20 ms.
import { RigError } from '../errors.ts'
import { unixRequest } from './unix-http.ts'

/** Calls the control server of a running environment. */
export async function controlRequest<T = unknown>(socketPath: string, method: 'GET' | 'POST', path: string, timeoutMs = 60_000, body?: unknown): Promise<T> {
  const res = await unixRequest(socketPath, method, path, body === undefined ? undefined : JSON.stringify(body), timeoutMs, () => new RigError('RIG_CONTROL_TIMEOUT', `the environment did not answer within ${timeoutMs} ms`))
  let parsed: { error?: string; code?: string; exitCode?: number } & Record<string, unknown>
  try {
    parsed = JSON.parse(res.body)
  } catch {
    throw new RigError('RIG_CONTROL_FAILED', `the environment answered with something unexpected: ${res.body.slice(0, 200)}`)
  }
  if (res.status >= 400) throw new RigError(parsed.code ?? 'RIG_CONTROL_FAILED', parsed.error ?? `HTTP ${res.status}`, typeof parsed.exitCode === 'number' ? { exitCode: parsed.exitCode } : {})
  return parsed as T
}
