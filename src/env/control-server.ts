// The control server of a running environment: a small HTTP API on a unix socket, so
// `rig status`, `rig stop db`, `rig down` and tests in other processes can drive it.
import fs from 'node:fs'
import http from 'node:http'
import { describeError, RigError } from '../errors.ts'
import type { Environment } from './environment.ts'
import { networkRoute, readJson } from '../proxy/control-routes.ts'
import { hostsRoute } from '../hosts/control-routes.ts'
import type { RestartChange } from '../services/service-kind.ts'
import { topologyOp, topologyRoute } from '../topology/control-routes.ts'

const ACTIONS = ['stop', 'kill', 'restart', 'pause', 'resume', 'failover'] as const
type Action = (typeof ACTIONS)[number]

/** Serves `env` on `socketPath`; `onDown` is called when a client asks for `rig down`. */
export async function serveControl(env: Environment, socketPath: string, onDown: () => void): Promise<http.Server> {
  fs.rmSync(socketPath, { force: true })
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const url = new URL(req.url ?? '/', 'http://rig')
    const parts = url.pathname.split('/').filter(Boolean)
    void (async () => {
      try {
        if (req.method === 'GET' && url.pathname === '/status') return send(200, env.toJSON())
        if (req.method === 'POST' && url.pathname === '/down') {
          send(200, { ok: true })
          return onDown()
        }
        // Proxies and faults: src/proxy/control-routes.ts.
        // Hosts: src/hosts/control-routes.ts; roles: src/topology/control-routes.ts.
        const routed = (await networkRoute(env, req, parts)) ?? (await hostsRoute(env, req, parts)) ?? (await topologyRoute(env, req, parts))
        if (routed !== undefined) return send(200, routed)
        if (req.method === 'POST' && parts[0] === 'services' && parts.length === 3) {
          const svc = env.get(decodeURIComponent(parts[1] ?? ''))
          const action = parts[2] as Action
          if (!ACTIONS.includes(action)) return send(404, { error: `unknown action "${action}" (${ACTIONS.join(', ')})` })
          // `stop` alone is quiet for an external service when the environment ends; asked for by name, it is an error.
          if (action === 'failover' && svc.topology) {
            const { change } = await topologyOp(env, svc.name, 'failover', ((await readJson(req)) ?? {}) as Record<string, unknown>)
            return send(200, { ...svc.toJSON(), master: `node${change.primary}`, change })
          }
          if (action === 'failover') {
            const master = await svc.failover()
            return send(200, { ...svc.toJSON(), master })
          }
          svc.assertControllable(action)
          const member = url.searchParams.get('member') ?? undefined
          if (action === 'kill') await svc.kill(member)
          else if (action === 'restart' && member === undefined) {
            const body = (await readJson(req)) as RestartChange | null
            const change = body && typeof body === 'object' && (body.run !== undefined || body.env !== undefined) ? { ...(body.run !== undefined ? { run: body.run } : {}), ...(body.env !== undefined ? { env: body.env } : {}) } : undefined
            await svc.restart(undefined, change)
          }
          else if (member !== undefined) throw new RigError('RIG_USAGE', `${action} applies to the whole service "${svc.name}": name no member`, { exitCode: 2 })
          else await svc[action]()
          return send(200, svc.toJSON())
        }
        send(404, { error: `no route ${req.method} ${url.pathname}` })
      } catch (err) {
        send(err instanceof RigError ? 400 : 500, { error: describeError(err), code: (err as { code?: string }).code, ...(err instanceof RigError ? { exitCode: err.exitCode } : {}) })
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  server.unref()
  return server
}
