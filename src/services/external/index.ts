// A service that already runs elsewhere: rig only probes it and hands out its address.
import { check, invalid } from '../../config/option-checks.ts'
import { ConfigError } from '../../errors.ts'
import { tcp } from '../../probes/tcp.ts'
import { defineService, type CommonOptions, type ServiceDefinition, type ServiceKind } from '../service-kind.ts'

/** Options of {@link external}. */
export interface ExternalOptions {
  /** Where it runs, e.g. `postgres://app@db.internal:5432/app` or `http://localhost:8080`. */
  url: string
  /** Extra variables this service exports to dependents (as `RIG_<NAME>_<KEY>`). */
  exports?: Record<string, string>
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379, 'mysql:': 3306, 'amqp:': 5672, 'mqtt:': 1883, 'nats:': 4222 }

const externalKind: ServiceKind<ExternalOptions> = {
  name: 'external',
  // `replicas` is known only to say why it cannot apply.
  optionKeys: ['url', 'exports', 'replicas'],
  needsPort: () => false,
  validate(o, where) {
    if ((o as { replicas?: unknown }).replicas !== undefined) {
      throw new ConfigError(
        'RIG_REPLICAS_UNSUPPORTED',
        `${where}: an external() service runs elsewhere and rig does not start it, so it cannot start replicas of it: use postgres({ replicas: N }) for a primary and replicas rig runs, or name each server of yours as its own external()`,
      )
    }
    // `localhost:8080` parses as a URL of scheme "localhost:": require scheme://.
    if (typeof o.url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(o.url) || !URL.canParse(o.url)) invalid(where, 'url', 'an absolute URL such as postgres://host:5432/db', o.url)
    check.scalarMap(where, 'exports', o.exports)
  },
  async start(ctx, o) {
    const u = new URL(o.url)
    const port = Number(u.port || DEFAULT_PORTS[u.protocol] || 0)
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port, url: o.url, env: { ...o.exports }, provider: 'external', defaultReady: [tcp()] }
  },
}

/** Something already running (a shared database, a staging API): probed, never started or stopped. */
export function external(options: ExternalOptions & Omit<CommonOptions, 'port'>): ServiceDefinition<ExternalOptions> {
  return defineService(externalKind, options)
}

export { externalKind }
