// `rig serve`: the health checks over HTTP for monitoring. Binds 127.0.0.1 unless told
// otherwise; details (per-check output, /checks, /metrics) need the token.
import { CHECK_DEFAULTS } from '../../checks/config.ts'
import { CheckConfigError } from '../../checks/errors.ts'
import { prepareChecks } from '../../checks/prepare.ts'
import { startCheckServer } from '../../checks/server/http.ts'
import { CheckService } from '../../checks/server/service.ts'
import type { Command } from '../command.ts'
import { findChecksRoot } from '../../checks/root.ts'
import { projectRoot } from '../_context.ts'
import { positiveInt } from './check.ts'

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the health checks over HTTP: /health, /checks, /metrics and a dashboard',
  usage: 'rig serve [--port 8080] [--host 127.0.0.1 | --host 0.0.0.0 --public] [--token T] [--allow-host NAME] [--target NAME]',
  details:
    'GET /health answers application/health+json (200 pass/warn, 503 fail); /checks the full results;\n' +
    '/metrics Prometheus text; / an HTML dashboard. Query: ?tag=smoke, ?deadline=MS.\n' +
    'Binds 127.0.0.1 and answers only requests for 127.0.0.1, localhost or [::1] (DNS rebinding\n' +
    'protection; --allow-host adds a name, e.g. the one a reverse proxy forwards). Binding any other\n' +
    'address needs --public and a token. Details need `Authorization: Bearer <token>` (RIG_CHECK_TOKEN or\n' +
    '--token); without a token they are served on loopback only. Checks marked `writes` or `expensive`\n' +
    'never run from HTTP.',
  options: {
    port: { type: 'string', short: 'p', value: 'PORT', description: 'port to listen on, 0 for a free one (default 8080)' },
    host: { type: 'string', value: 'HOST', description: 'address to bind (default 127.0.0.1); another than loopback needs --public' },
    public: { type: 'boolean', description: 'allow binding a non-loopback address such as 0.0.0.0 (requires a token)' },
    'allow-host': { type: 'string', multiple: true, value: 'NAME', description: 'also answer requests for this Host name (name or name:port)' },
    token: { type: 'string', value: 'TOKEN', description: 'bearer token for details (prefer RIG_CHECK_TOKEN: arguments show in ps)' },
    target: { type: 'string', value: 'NAME', description: 'env values of this target from rig.checks.ts' },
    checks: { type: 'string', multiple: true, value: 'GLOB', description: 'check files to load' },
    ttl: { type: 'string', value: 'MS', description: 'how long a result is reused (default 10000)' },
    deadline: { type: 'string', value: 'MS', description: 'per-request deadline; unfinished checks show as timed out (default 3000)' },
    concurrency: { type: 'string', short: 'j', value: 'N', description: 'checks running at once (default 16)' },
  },
  async run({ values, out }) {
    const portText = (values.port as string | undefined) ?? '8080'
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new CheckConfigError('RIG_CHECK_USAGE', `--port must be 0–65535, got "${portText}"`)
    const ttlText = values.ttl as string | undefined
    if (ttlText !== undefined && !/^\d+$/.test(ttlText)) throw new CheckConfigError('RIG_CHECK_USAGE', `--ttl must be a whole number of ms, got "${ttlText}"`)
    const deadline = positiveInt(values.deadline, 'deadline')
    const concurrency = positiveInt(values.concurrency, 'concurrency')
    const host = (values.host as string | undefined) ?? '127.0.0.1'
    const token = (values.token as string | undefined) ?? process.env.RIG_CHECK_TOKEN
    // --config names the project; otherwise the nearest rig.checks.ts or rig.config.ts wins.
    const root = values.config ? projectRoot(values.config as string) : findChecksRoot()
    const include = values.checks as string[] | undefined
    const { project, target } = await prepareChecks(root, { ...(include ? { include } : {}), ...(typeof values.target === 'string' ? { target: values.target } : {}) })
    const config = project.config
    const service = new CheckService(project.checks, {
      ttl: ttlText !== undefined ? Number(ttlText) : (config.ttl ?? CHECK_DEFAULTS.ttl),
      tiers: { ...(config.tiers ?? CHECK_DEFAULTS.tiers) },
      ...((concurrency ?? config.concurrency) !== undefined ? { concurrency: (concurrency ?? config.concurrency) as number } : {}),
      ...(config.defaultTimeout !== undefined ? { defaultTimeout: config.defaultTimeout } : {}),
      ...(target.name ? { target: target.name } : {}),
    })
    const allowHosts = (values['allow-host'] as string[] | undefined) ?? []
    const server = await startCheckServer(service, { host, port: Number(portText), public: Boolean(values.public), allowHosts, ...(token ? { token } : {}), ...(deadline ? { deadline } : {}) })
    out.print(`rig serve: listening on ${server.url} (${project.checks.length} checks${target.name ? `, target ${target.name}` : ''})`)
    // Warm the cache so the first monitor request does not wait for every check.
    void service.refresh().catch(() => {})
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve(s))
    })
    out.info(`rig serve: ${signal}, closing`)
    await server.close()
    return signal === 'SIGINT' ? 130 : 0
  },
}
