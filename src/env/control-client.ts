// The CLI calls this on every `rig status`: node:http is taken as the plain module, because its
// ESM facade reads every export, and node:http's WebSocket getters load Node's whole fetch
// implementation (undici), ~20 ms of a start that otherwise takes about as much.
import { RigError } from '../errors.ts'

const http = process.getBuiltinModule('node:http')

/** Calls the control server of a running environment. */
export function controlRequest<T = unknown>(socketPath: string, method: 'GET' | 'POST', path: string, timeoutMs = 60_000, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => {
        let parsed: { error?: string; code?: string; exitCode?: number } & Record<string, unknown>
        try {
          parsed = JSON.parse(body)
        } catch {
          return reject(new RigError('RIG_CONTROL_FAILED', `the environment answered with something unexpected: ${body.slice(0, 200)}`))
        }
        if ((res.statusCode ?? 500) >= 400) reject(new RigError(parsed.code ?? 'RIG_CONTROL_FAILED', parsed.error ?? `HTTP ${res.statusCode}`, typeof parsed.exitCode === 'number' ? { exitCode: parsed.exitCode } : {}))
        else resolve(parsed as T)
      })
    })
    req.on('timeout', () => req.destroy(new RigError('RIG_CONTROL_TIMEOUT', `the environment did not answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}
