// Redis from the local `redis-server` binary, in-memory only (no RDB/AOF), on a free port,
// with a password generated per start and, as root, under the unprivileged service account.
import fs from 'node:fs'
import path from 'node:path'
import { check, invalid } from '../../config/option-checks.ts'
import { ConfigError, MissingBinaryError } from '../../errors.ts'
import { redisPing } from '../../probes/redis.ts'
import { findBinary } from '../../providers/process/binaries.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, privateServiceDir, unprivilegedUser, type ServiceUser } from '../../providers/process/user.ts'
import { writePrivateFile } from '../../fs-safe/private-file.ts'
import { newPassword } from '../credentials.ts'
import { shutdownRedis } from './shutdown.ts'
import { startTopology, type RedisTopologyOptions } from './topology.ts'
import { defineService, type CommonOptions, type DoctorEntry, type ServiceDefinition, type ServiceKind } from '../service-kind.ts'

/** Options of {@link redis}. */
export interface RedisOptions extends RedisTopologyOptions {
  /** Directory holding `redis-server`; overrides the search. */
  binDir?: string
  /** Extra config directives, e.g. `{ maxmemory: '64mb' }`, passed as `--name value`. */
  settings?: Record<string, string | number>
  /**
   * TLS only (`tls-port`; the plain port is off) with a certificate from rig's CA for the
   * addresses the server is reached at. The URL is `rediss://…`; `RIG_<NAME>_CA_CERT` is the CA
   * file clients verify it against (processes rig starts trust it through
   * `NODE_EXTRA_CA_CERTS`). Clients need no certificate of their own. Not with `replicas` or
   * `sentinels`.
   * @default false
   */
  tls?: boolean
}

const INSTALL = 'apt-get install redis-server (Debian/Ubuntu), dnf install redis, or brew install redis'

function find(binDir?: string) {
  return findBinary({ name: 'redis-server', binDir, envVar: 'RIG_REDIS_BIN_DIR', wellKnown: ['/usr/local/bin', '/opt/homebrew/bin'] })
}

const redisKind: ServiceKind<RedisOptions> = {
  name: 'redis',
  optionKeys: ['binDir', 'settings', 'tls', 'replicas', 'sentinels', 'masterName', 'downAfter'],
  runsOnHosts: true,
  // A replica retrying its lost master (killed in a failover test) is what a topology is for,
  // not an error of the test's.
  errorPatterns: [/# (Error|Fatal)(?! condition on socket for SYNC)/i, /\bERR\b/],
  // Readiness speaks RESP itself; only the guard (data checks in tests) needs the client.
  drivers: [{ package: 'redis', purpose: 'guard in tests' }],
  validate(o, where) {
    check.string(where, 'binDir', o.binDir)
    check.scalarMap(where, 'settings', o.settings)
    check.boolean(where, 'tls', o.tls)
    if (o.tls && (o.replicas || o.sentinels)) {
      throw new ConfigError(
        'RIG_CONFIG_INVALID',
        `${where}: \`tls: true\` with ${o.replicas ? 'replicas' : 'sentinels'} is not supported: rig's replicas, sentinels and the address that follows the master speak plain RESP. Remove \`tls\` (the topology then runs without TLS), or remove \`replicas\` and \`sentinels\``,
      )
    }
    if (o.tls && o.settings) {
      const own = Object.keys(o.settings).filter((k) => /^(port|tls-port|tls-cert-file|tls-key-file|tls-auth-clients)$/i.test(k))
      if (own.length > 0) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: \`tls: true\` sets ${own.map((k) => `\`${k}\``).join(', ')} itself: remove ${own.length === 1 ? 'it' : 'them'} from \`settings\``)
    }
    for (const key of ['replicas', 'sentinels'] as const) {
      const v = o[key]
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 9)) invalid(where, key, 'a whole number from 0 to 9', v)
    }
    if (o.masterName !== undefined && !(typeof o.masterName === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(o.masterName))) invalid(where, 'masterName', 'letters, digits, ".", "_" or "-" (at most 64)', o.masterName)
    check.ms(where, 'downAfter', o.downAfter, true)
    if ((o.replicas || o.sentinels) && o.host !== undefined) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: a Redis with replicas or sentinels runs on 127.0.0.1 only: remove \`host\``)
  },
  async start(ctx, o) {
    const found = find(o.binDir)
    if (!found.path) {
      const where = o.binDir === undefined ? undefined : fs.existsSync(o.binDir) ? `which is not in its binDir ${o.binDir}` : `but its binDir ${o.binDir} does not exist`
      throw new MissingBinaryError('redis-server', ctx.name, found.searched, INSTALL, 'RIG_REDIS_BIN_DIR', where)
    }
    const bin = found.path
    const user = unprivilegedUser()
    const password = newPassword()
    const baseArgs = (dir: string, port: number): string[] => {
      const a = ['--port', String(port), '--bind', port === ctx.port ? ctx.host : '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'notice', '--protected-mode', 'no']
      for (const [k, v] of Object.entries(o.settings ?? {})) a.push(`--${k}`, String(v))
      return a
    }
    if (o.replicas || o.sentinels) return startTopology(ctx, o, { bin, user, password, args: baseArgs })
    // The password goes in a file only the server's account can read: arguments are public
    // (/proc/<pid>/cmdline).
    const conf = path.join(ctx.dir, 'redis.conf')
    fs.writeFileSync(conf, `requirepass ${password}\n`, { flag: 'wx', mode: 0o600 })
    if (user) fs.chownSync(conf, user.uid, user.gid)
    privateServiceDir(ctx.dir, user)
    const args = [conf, ...baseArgs(ctx.dir, ctx.port)]
    const env: Record<string, string> = { PASSWORD: password }
    let caFile: string | undefined
    if (o.tls) {
      const tls = serverCertificate(ctx.name, ctx.dir, ctx.certificate, user)
      // TLS only: a plain port beside it would let a client skip the verification by mistake.
      args.push('--port', '0', '--tls-port', String(ctx.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-auth-clients', 'no')
      caFile = tls.caFile
      env.CA_CERT = caFile
    }
    // `default:` (the ACL user requirepass sets, Redis 6+): redis-cli reads no password without a user name.
    const url = `${o.tls ? 'rediss' : 'redis'}://default:${password}@${ctx.host}:${ctx.port}`
    return {
      host: ctx.host,
      port: ctx.port,
      url,
      env,
      provider: 'process',
      launch: () => new ManagedProcess({ command: bin, args, cwd: ctx.dir, user, netns: ctx.netns, stopSignal: 'SIGTERM', stopGraceMs: 3000 }, ctx.logs),
      // SHUTDOWN exits at once (SIGTERM waits for Redis's next timer tick, up to 100 ms); at
      // teardown NOSAVE, since the data goes with the instance dir; before a restart the
      // server's own save settings apply (none unless `settings` asks).
      requestStop: (teardown) => shutdownRedis(url, teardown, 1000, caFile),
      defaultReady: [redisPing(caFile ? { caFile } : {})],
      crashHint: (tail) => {
        if (tail.some((l) => /Address already in use/i.test(l))) return 'the port is taken: remove `port` to let rig pick a free one'
        if (o.tls && tail.some((l) => /tls|ssl/i.test(l))) return `this redis-server could not serve TLS (was it built with BUILD_TLS=yes? Debian's and Homebrew's are): check \`${bin} --tls-port 0 --port 0\`, or remove \`tls\``
        return undefined
      },
    }
  },
  async doctor(): Promise<DoctorEntry[]> {
    const found = find()
    if (!found.path) return [{ what: 'redis-server', ok: false, detail: 'not found', fix: INSTALL }]
    const v = await run(found.path, ['--version']).catch((e: Error) => e.message)
    return [{ what: 'redis-server', ok: true, detail: `${v.match(/v=(\S+)/)?.[1] ?? v.trim()} at ${found.path}` }]
  },
}

/** Writes the server's certificate and key (0600, the server account's) into its dir. */
function serverCertificate(service: string, dir: string, issue: (() => { cert: string; key: string; caFile: string }) | undefined, user: ServiceUser | undefined): { cert: string; key: string; caFile: string } {
  const issued = issue?.()
  if (!issued) throw new ConfigError('RIG_CONFIG_INVALID', `service "${service}": tls needs rig's CA, which this start has none of`)
  const cert = path.join(dir, 'server.crt')
  const key = path.join(dir, 'server.key')
  writePrivateFile(cert, issued.cert)
  writePrivateFile(key, issued.key)
  chownForService(cert, user)
  chownForService(key, user)
  return { cert, key, caFile: issued.caFile }
}

/** A Redis server for the environment. */
export function redis(options: RedisOptions & CommonOptions = {}): ServiceDefinition<RedisOptions> {
  return defineService(redisKind, options)
}

export { redisKind }
