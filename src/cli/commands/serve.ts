// `rig serve`: the health checks over HTTP for monitoring. Binds 127.0.0.1 unless told
// otherwise; details (per-check output, /checks, /metrics) need the token.
import { CHECK_DEFAULTS } from '../../checks/config.ts'
import { CheckConfigError } from '../../checks/errors.ts'
import { prepareChecks } from '../../checks/prepare.ts'
import { startCheckServer } from '../../checks/server/http.ts'
import { CheckService } from '../../checks/server/service.ts'
import type { CommandContext } from '../command.ts'
import { findChecksRoot } from '../../checks/root.ts'
import { projectRoot } from '../_context.ts'
import { positiveInt } from './check.ts'

/** `rig serve`: the health checks over HTTP until a signal. */
export async function serve({ values, out }: CommandContext): Promise<number> {
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
}
