// PostgreSQL: a real server from local binaries (data dir copied from an init cache,
// test-speed settings), or PGlite when no binary is installed.
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { check, invalid } from '../../config/option-checks.ts'
import { ConfigError, MissingBinaryError } from '../../errors.ts'
import type { Probe } from '../../probes/probe.ts'
import { postgresQuery } from '../../probes/postgres.ts'
import { launchPglite, pgliteAvailable } from '../../providers/embedded/pglite.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { chownForService, privateServiceDir, unprivilegedUser, type ServiceUser } from '../../providers/process/user.ts'
import { writePrivateFile } from '../../fs-safe/private-file.ts'
import { newPassword } from '../credentials.ts'
import { defineService, type CommonOptions, type DoctorEntry, type Launched, type ServiceDefinition, type ServiceKind, type StartContext } from '../service-kind.ts'
import { acceptingProbe, scramVerifier, setPasswordProbe } from './auth.ts'
import { findPostgres, INSTALL_HINT, resolvePostgres } from './binaries.ts'
import { copyDataDir, ensureInitialised, postgresVersion } from './init-cache.ts'
import { refillSpares, startUnderWay, takeSpare, takeSpareWithLogin, type SpareLogin } from './spare.ts'
import { freePort } from '../../providers/process/ports.ts'
import { nextLine, ReplicaSet, replicaLogs, replicationSettings } from './replica-set.ts'

/** Options of {@link postgres}. */
export interface PostgresOptions {
  /** Major version to use, e.g. `'16'`; by default the newest installed. */
  version?: string
  /** Directory holding `postgres` and `initdb`; overrides the search. */
  binDir?: string
  /**
   * Database created for the tests.
   * @default 'postgres'
   */
  database?: string
  /**
   * Superuser name. Its password is generated for each start and carried by the service's
   * URL (and `RIG_<NAME>_PASSWORD`).
   * @default 'postgres'
   */
  user?: string
  /** Server settings passed as `-c name=value`, on top of rig's test-speed defaults. */
  settings?: Record<string, string | number | boolean>
  /** Extra `initdb` arguments; part of the init cache key. */
  initdbArgs?: string[]
  /**
   * `process` runs the local binaries, `embedded` runs PGlite, `auto` prefers binaries and
   * falls back to PGlite with a notice.
   * @default 'auto'
   */
  provider?: 'auto' | 'process' | 'embedded'
  /**
   * TLS with a certificate from rig's local CA (`<name>.<project>.localhost`, localhost,
   * 127.0.0.1; on a host also the host's address, from the environment's hosts CA): the URL
   * carries `sslmode=verify-full&sslrootcert=<CA file>`, so clients check the server's
   * certificate and name. `RIG_<NAME>_SSL_ROOT_CERT` is the CA file.
   * @default false
   */
  ssl?: boolean
  /**
   * Streaming replicas of the primary, each started from a copy of the same init cache entry
   * (no base backup). The service is ready once every replica replayed the primary's WAL as it
   * was when they started. Exports `RIG_<NAME>_PRIMARY_URL` and `RIG_<NAME>_REPLICA_URL` (rig's
   * proxy: addresses that follow switchovers and failovers) and `RIG_<NAME>_REPLICA_<n>_URL`
   * (replica n itself). Needs the PostgreSQL binaries (not PGlite).
   * @default 0
   */
  replicas?: number
  /**
   * Commits wait until a replica applied them (`synchronous_commit = remote_apply`), so a
   * failover loses no committed write and a read on a replica sees it. While no replica runs,
   * the primary commits alone.
   * @default false
   */
  synchronous?: boolean
}

/**
 * Settings that make PostgreSQL fast for throw-away test data: durability off. Autovacuum stays
 * on: off it bought no speed and let the catalog bloat (bench/autovacuum.bench.ts, docs/guard.md).
 */
export const TEST_SPEED_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  max_wal_senders: '0',
  wal_level: 'minimal',
  checkpoint_timeout: '1h',
  max_wal_size: '4GB',
  // user@database on every session's lines, so a log scan can tell parallel workers apart.
  log_line_prefix: '%m [%p] %q%u@%d ',
  // Dynamic shared memory as files in the data dir (pg_dynshmem), not POSIX segments in
  // /dev/shm: the teardown's immediate shutdown does not remove those, and each stopped server
  // left its segments there for good; the data dir is removed with the environment.
  dynamic_shared_memory_type: 'mmap',
}

const PROVIDERS = ['auto', 'process', 'embedded'] as const

/**
 * A database or user name must round-trip through the postgres:// URL rig hands out. Any
 * name is valid SQL once quoted, but node-postgres decodes the URL path with decodeURI, which
 * leaves %3B, %2F, %3F… encoded: a database named "a;b" would be created and never found.
 */
function checkName(where: string, key: 'database' | 'user', v: unknown): void {
  check.string(where, key, v)
  if (typeof v !== 'string') return
  if (Buffer.byteLength(v) > 63) invalid(where, key, 'at most 63 bytes (PostgreSQL truncates longer names)', v)
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) invalid(where, key, 'a name without control characters', v)
  const reserved = key === 'database' ? /[;/?:@&=+$,#]/.exec(v) : null
  if (reserved) invalid(where, key, `a name without "${reserved[0]}": PostgreSQL accepts it quoted, but it does not survive the postgres:// URL as node-postgres decodes it (use letters, digits, spaces, _ - . " ')`, v)
}

function urlFor(host: string, user: string, port: number, database: string, password?: string): string {
  const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(database)}`
}

function crashHint(tail: readonly string[]): string | undefined {
  const text = tail.join('\n')
  if (/could not bind .*Permission denied/i.test(text)) return 'the port is privileged (below 1024) and PostgreSQL runs as an unprivileged user: choose a port from 1024 up, or remove `port`'
  if (/Address already in use|could not bind/i.test(text)) return 'the port is taken: remove `port` to let rig pick a free one'
  if (/root/i.test(text) && /not permitted|cannot be run/i.test(text)) return 'PostgreSQL refuses root: set RIG_SERVICE_USER to an unprivileged user'
  if (/shared memory|could not create shared memory/i.test(text)) return 'not enough shared memory: lower `settings.shared_buffers`'
  return undefined
}

/** What PostgreSQL logs once it accepts connections. */
const ACCEPTING = /database system is ready to accept connections/

/** Once the server answers (the copy no longer competes with its start), the next start's copy is made. */
function refillWhenReady(probe: Probe, cached: string, want: number, login: SpareLogin | undefined, started: () => void): Probe {
  let refilled = false
  return {
    ...probe,
    async run(ctx) {
      const out = await probe.run(ctx)
      if (!refilled) {
        refilled = true
        started()
        refillSpares(cached, want, login)
      }
      return out
    },
  }
}

/** Writes the server's certificate and key (0600, the server account's) into its private dir. */
function serverCertificate(ctx: StartContext, user: ServiceUser | undefined): { cert: string; key: string; caFile: string } {
  const issued = ctx.certificate?.()
  if (!issued) throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}": ssl needs rig's CA, which this start has none of`)
  const cert = path.join(ctx.dir, 'server.crt')
  const key = path.join(ctx.dir, 'server.key')
  writePrivateFile(cert, issued.cert)
  writePrivateFile(key, issued.key)
  chownForService(cert, user)
  chownForService(key, user)
  return { cert, key, caFile: issued.caFile }
}

/** A data dir for an instance: a spare copy moved into place, or a copy made now. */
async function dataDirFrom(cached: string, data: string, user: ReturnType<typeof unprivilegedUser>): Promise<void> {
  if (!takeSpare(cached, data, user)) await copyDataDir(cached, data)
}

async function startProcess(ctx: StartContext, o: PostgresOptions, bin: string): Promise<Launched> {
  // Until it answers (or its server exits, or the start throws), no spare is made in this
  // process (spare.ts).
  const started = startUnderWay()
  try {
    return await launchProcess(ctx, o, bin, started)
  } catch (err) {
    started()
    throw err
  }
}

async function launchProcess(ctx: StartContext, o: PostgresOptions, bin: string, started: () => void): Promise<Launched> {
  const user = unprivilegedUser()
  const binDir = path.dirname(bin)
  const database = o.database ?? 'postgres'
  const pgUser = o.user ?? 'postgres'
  const version = await postgresVersion(bin)
  const cached = await ensureInitialised({ binDir, version, user: pgUser, database, initdbArgs: o.initdbArgs ?? [], owner: user?.name ?? 'self' }, user, () =>
    ctx.notice(`initialising PostgreSQL ${version} data once (cached for next runs)`),
  )
  // The socket lives here: only the server's account (and root) may open it.
  privateServiceDir(ctx.dir, user)
  const data = path.join(ctx.dir, 'data')
  const replicas = o.replicas ?? 0
  // A copy made ahead of time moves into place with one rename; without one, copy now.
  // Replicas are copies of the same cache entry, made at the same time.
  const replicaPorts = await Promise.all(Array.from({ length: replicas }, () => freePort()))
  const replicaData = replicaPorts.map((_, i) => path.join(ctx.dir, `data-replica-${i + 1}`))
  // A single server takes a spare whose role has its password already (made with the spare):
  // readiness is then the server's own "ready to accept connections", with no login to store
  // one. A replica set's members must be copies of the same data, made without any such step.
  const preset = replicas === 0 ? takeSpareWithLogin(cached, data, user) : undefined
  const password = preset ?? newPassword()
  // Computed on the thread pool while the data is copied: off the path to ready.
  const verifier = preset === undefined ? scramVerifier(password) : Promise.resolve('')
  verifier.catch(() => {})
  if (preset === undefined) await Promise.all([data, ...replicaData].map((d) => dataDirFrom(cached, d, user)))
  // On a host, clients come from the hosts' range (tests from its first address), with the password.
  if (ctx.clientRange) for (const d of [data, ...replicaData]) fs.appendFileSync(path.join(d, 'pg_hba.conf'), `host all all ${ctx.clientRange} scram-sha-256\n`)
  const settings = { ...TEST_SPEED_SETTINGS, unix_socket_permissions: '0700', ...(replicas > 0 ? replicationSettings(replicas, o.synchronous === true) : {}), ...o.settings }
  const argsFor = (dir: string, port: number): string[] => {
    const a = ['-D', dir, '-p', String(port), '-h', ctx.host, '-k', ctx.dir]
    for (const [k, v] of Object.entries(settings)) a.push('-c', `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`)
    return a
  }
  const args = argsFor(data, ctx.port)
  let url = urlFor(ctx.host, pgUser, ctx.port, database, password)
  const env: Record<string, string> = { DATABASE: database, USER: pgUser, PASSWORD: password, VERSION: version }
  if (o.ssl) {
    const tls = serverCertificate(ctx, user)
    args.push('-c', 'ssl=on', '-c', `ssl_cert_file=${tls.cert}`, '-c', `ssl_key_file=${tls.key}`)
    url += `?sslmode=verify-full&sslrootcert=${encodeURIComponent(tls.caFile)}`
    env.SSL_ROOT_CERT = tls.caFile
  }
  const set =
    replicas > 0
      ? new ReplicaSet({
          service: ctx.name,
          binDir,
          user,
          socketDir: ctx.dir,
          pgUser,
          database,
          password,
          synchronous: o.synchronous === true,
          members: [{ data, port: ctx.port, logs: ctx.logs }, ...replicaPorts.map((port, i) => ({ data: replicaData[i] as string, port, logs: replicaLogs(ctx.logs.file, ctx.name, i + 1) }))],
          args: argsFor,
          host: ctx.host,
          netns: ctx.netns,
          track: ctx.track,
        })
      : undefined
  set?.prepare()
  const login = { socketDir: ctx.dir, port: ctx.port, user: pgUser, database, verifier, accepting: () => accepting, pidFile: path.join(data, 'postmaster.pid') }
  const spareLogin: SpareLogin | undefined = replicas === 0 ? { bin, user, role: pgUser, database } : undefined
  const setup = [refillWhenReady(preset === undefined ? setPasswordProbe(login) : acceptingProbe(login), cached, replicas + 1, spareLogin, started)]
  if (set) setup.push(caughtUpProbe(set))
  // The line PostgreSQL logs once it accepts connections, for the current run of the process.
  let accepting: Promise<void> = Promise.resolve()
  return {
    host: ctx.host,
    port: ctx.port,
    url,
    env,
    setup,
    ...(set ? { topology: set } : {}),
    provider: 'process',
    // SIGINT is PostgreSQL's "fast shutdown": no waiting for clients to disconnect, then a
    // checkpoint, so a restart finds its data. At teardown the data is thrown away: SIGQUIT, the
    // "immediate" shutdown (no checkpoint; the postmaster still ends every backend first).
    launch: () => {
      accepting = nextLine(ctx.logs, ACCEPTING)
      // A server that exits before it answered (a crash, a stop after a failed start) no longer
      // holds spares back.
      const ends = (proc: ManagedProcess): ManagedProcess => (void proc.exited.then(started), proc)
      if (!set) return ends(new ManagedProcess({ command: bin, args, cwd: ctx.dir, user, netns: ctx.netns, stopSignal: 'SIGINT', stopGraceMs: 5000 }, ctx.logs))
      // The replicas start with the primary: each retries every 100 ms until the primary listens.
      const primary = set.launch(0)
      set.launchReplicas()
      return ends(primary)
    },
    teardownSignal: 'SIGQUIT',
    // The first step waited for the server to accept connections (and logged in on its socket
    // to store the password, unless the spare came with it); TCP listens before the socket does.
    defaultReady: [],
    crashHint,
  }
}

/**
 * Readiness of a service with replicas: every replica replayed the primary's WAL as it was when
 * the wait began (the password the previous step stored included).
 */
function caughtUpProbe(set: ReplicaSet): Probe {
  let target: string | undefined
  // The check runs on its own and an attempt reads how the last one ended: an attempt cut by
  // the deadline (connections are slow on a loaded machine) still reports what was behind.
  let checking: Promise<void> | undefined
  let caughtUp = false
  let last: unknown
  return {
    name: 'replicas caught up with the primary',
    timeoutMs: 2000,
    async run(ctx) {
      target ??= await set.primaryLsn()
      const lsn = target
      checking ??= set
        .caughtUp(lsn)
        .then(
          () => void (caughtUp = true),
          (err: unknown) => void (last = err),
        )
        .finally(() => (checking = undefined))
      await Promise.race([checking, sleep(50, undefined, { signal: ctx.signal }).catch(() => {})])
      if (!caughtUp) throw last ?? new Error(`checking that every replica replayed the primary's WAL up to ${lsn}`)
      await set.started()
      return { detail: `replayed up to ${lsn}` }
    },
  }
}

function startEmbedded(ctx: StartContext, o: PostgresOptions): Launched {
  if (ctx.netns) throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}" is on a host, where the embedded PostgreSQL (PGlite) cannot run: install PostgreSQL (${INSTALL_HINT}) or remove \`host\``)
  if (o.database && o.database !== 'postgres') {
    throw new ConfigError('RIG_EMBEDDED_UNSUPPORTED', `service "${ctx.name}": the embedded PostgreSQL (PGlite) has a single database named "postgres"; remove \`database: '${o.database}'\` or install PostgreSQL (${INSTALL_HINT})`)
  }
  if (o.ssl) throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}": the embedded PostgreSQL (PGlite) has no TLS, so \`ssl: true\` cannot work: install PostgreSQL (${INSTALL_HINT}) or remove \`ssl\``)
  const data = path.join(ctx.dir, 'pglite')
  return {
    host: '127.0.0.1',
    port: ctx.port,
    url: urlFor('127.0.0.1', 'postgres', ctx.port, 'postgres'),
    env: { DATABASE: 'postgres', USER: 'postgres', VERSION: 'pglite' },
    provider: 'embedded',
    launch: () => launchPglite(ctx.port, data, ctx.logs),
    defaultReady: [postgresQuery('select 1')],
  }
}

const postgresKind: ServiceKind<PostgresOptions> = {
  name: 'postgres',
  optionKeys: ['version', 'binDir', 'database', 'user', 'settings', 'initdbArgs', 'provider', 'ssl', 'replicas', 'synchronous'],
  wantsProxy: (o) => (o.replicas ?? 0) > 0,
  // PGlite is the exception: it runs in rig's own process group, never in a host's namespace.
  runsOnHosts: true,
  errorPatterns: [/\b(ERROR|FATAL|PANIC):/],
  drivers: [{ package: 'pg', purpose: 'readiness probe and guard' }],
  validate(o, where) {
    check.oneOf(where, 'provider', o.provider, PROVIDERS)
    if (o.version !== undefined && !(typeof o.version === 'string' && /^\d+(\.\d+)?$/.test(o.version))) invalid(where, 'version', "a major version as a string, such as '16'", o.version)
    check.string(where, 'binDir', o.binDir)
    checkName(where, 'database', o.database)
    checkName(where, 'user', o.user)
    if (typeof o.user === 'string' && o.user.startsWith('pg_')) invalid(where, 'user', 'a name that does not start with "pg_" (PostgreSQL reserves those role names)', o.user)
    check.scalarMap(where, 'settings', o.settings)
    check.stringArray(where, 'initdbArgs', o.initdbArgs)
    check.boolean(where, 'ssl', o.ssl)
    if (o.replicas !== undefined && !(Number.isInteger(o.replicas) && o.replicas >= 0 && o.replicas <= 8)) invalid(where, 'replicas', 'a whole number from 0 to 8', o.replicas)
    check.boolean(where, 'synchronous', o.synchronous)
    if (o.synchronous && !o.replicas) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: \`synchronous: true\` makes commits wait for a replica, but it has none: add \`replicas: 1\` (or more), or remove \`synchronous\``)
    if (o.replicas && o.provider === 'embedded') {
      throw new ConfigError('RIG_REPLICAS_UNSUPPORTED', `${where}: the embedded PostgreSQL (PGlite) has no replication: remove \`replicas\` or \`provider: 'embedded'\` (replicas need the PostgreSQL binaries: ${INSTALL_HINT})`)
    }
    if (o.provider === 'embedded' && (o.version !== undefined || o.binDir !== undefined)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `${where}: \`version\` and \`binDir\` choose a PostgreSQL binary, but \`provider: 'embedded'\` runs PGlite: remove one or the other`)
    }
  },
  async start(ctx, o) {
    const provider = o.provider ?? 'auto'
    if (provider === 'embedded') return startEmbedded(ctx, o)
    // An explicit binDir or version that cannot be met throws here: no silent fallback.
    const bin = await resolvePostgres(ctx.name, o)
    if (bin) return startProcess(ctx, o, bin)
    if (provider === 'auto' && pgliteAvailable() && o.replicas) {
      throw new ConfigError('RIG_REPLICAS_UNSUPPORTED', `service "${ctx.name}": \`replicas\` need the PostgreSQL binaries, and none was found (the embedded PGlite fallback has no replication): ${INSTALL_HINT}, or remove \`replicas\``)
    }
    if (provider === 'auto' && pgliteAvailable()) {
      ctx.notice(`no PostgreSQL binary found; "${ctx.name}" runs on embedded PGlite (install PostgreSQL for full fidelity: ${INSTALL_HINT})`)
      return startEmbedded(ctx, o)
    }
    throw new MissingBinaryError('postgres', ctx.name, findPostgres({}).searched, INSTALL_HINT, 'RIG_POSTGRES_BIN_DIR')
  },
  async doctor(): Promise<DoctorEntry[]> {
    const found = findPostgres({})
    const entries: DoctorEntry[] = []
    if (found.path) {
      const version = await postgresVersion(found.path).catch((e: Error) => `unknown (${e.message})`)
      entries.push({ what: 'postgres', ok: true, detail: `PostgreSQL ${version} at ${found.path}` })
    } else {
      entries.push({ what: 'postgres', ok: false, optional: pgliteAvailable(), detail: `not found in ${found.searched.length} places${pgliteAvailable() ? '; the embedded PGlite fallback will be used' : ''}`, fix: INSTALL_HINT })
    }
    entries.push({
      what: 'postgres (embedded)',
      ok: pgliteAvailable(),
      optional: true,
      detail: pgliteAvailable() ? 'PGlite available as a fallback' : 'PGlite not installed (only needed when no PostgreSQL binary exists)',
      ...(pgliteAvailable() ? {} : { fix: 'npm install --save-dev @electric-sql/pglite @electric-sql/pglite-socket' }),
    })
    return entries
  },
}

/** A PostgreSQL server for the environment. */
export function postgres(options: PostgresOptions & CommonOptions = {}): ServiceDefinition<PostgresOptions> {
  return defineService(postgresKind, options)
}

export { postgresKind }
