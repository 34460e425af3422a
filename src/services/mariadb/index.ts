// MariaDB and MySQL: a real server from local binaries, its data dir copied from an init cache,
// test-speed settings, its own port, socket and credentials, run as an unprivileged account.
import fs from 'node:fs'
import path from 'node:path'
import { check, invalid } from '../../config/option-checks.ts'
import { mysqlQuery } from '../../probes/mysql.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, privateServiceDir, unprivilegedUser } from '../../providers/process/user.ts'
import { defineService, type CommonOptions, type DoctorEntry, type Launched, type ServiceDefinition, type ServiceKind, type StartContext } from '../service-kind.ts'
import { findServer, type Flavor, INSTALL_HINT, requireServer } from './binaries.ts'
import { newPassword } from '../credentials.ts'
import { initStatements, writeInitFile } from './credentials.ts'
import { ensureMariadbData } from './init-cache.ts'
import { type InstancePaths, serverArgs } from './settings.ts'

/** Options of {@link mariadb} and {@link mysql}. */
export interface MariadbOptions {
  /** Directory holding the server binary (`mariadbd` / `mysqld`); overrides the search. */
  binDir?: string
  /**
   * Database created for the tests.
   * @default 'app'
   */
  database?: string
  /**
   * Account the URL logs in with; it has every privilege (rig's guard needs them).
   * @default 'root'
   */
  user?: string
  /** Its password; by default a random one per instance (in the URL and `RIG_<NAME>_PASSWORD`). */
  password?: string
  /** Server variables passed as `--name=value`, on top of rig's test-speed defaults. */
  settings?: Record<string, string | number | boolean>
}

const NAME = /^[A-Za-z0-9_$-]{1,64}$/

/** The option values a MariaDB/MySQL service accepts; `where` begins the message (`service "db"`). */
function validate(o: MariadbOptions, where: string): void {
  check.string(where, 'binDir', o.binDir)
  for (const [what, v, max] of [['database', o.database, 64], ['user', o.user, 32]] as const) {
    // Both end up in SQL and in the URL: plain names only.
    if (v !== undefined && !(typeof v === 'string' && NAME.test(v) && v.length <= max)) invalid(where, what, `a name of letters, digits, "_", "$" or "-" (at most ${max})`, v)
  }
  check.scalarMap(where, 'settings', o.settings)
  for (const key of Object.keys(o.settings ?? {})) {
    // Settings become `--key=value` arguments: a key can never smuggle another option in.
    if (!/^[a-z][a-z0-9_-]*$/i.test(key)) invalid(where, 'settings', 'server variable names (letters, digits, "_", "-")', key)
  }
  if (o.password !== undefined && !(typeof o.password === 'string' && o.password.length > 0 && !/[\0\n]/.test(o.password))) {
    invalid(where, 'password', 'a non-empty string on one line (leave it out for a random one)', typeof o.password === 'string' ? '(hidden)' : o.password)
  }
}

function crashHint(tail: readonly string[]): string | undefined {
  const text = tail.join('\n')
  if (/Address already in use|Bind on TCP\/IP port/i.test(text)) return 'the port is taken: remove `port` to let rig pick a free one'
  const unknown = text.match(/unknown (?:variable|option) '([^']+)'/i)
  if (unknown) return `"${unknown[1]}" is not a server variable: check the service's \`settings\` (names as in SHOW VARIABLES)`
  if (/Permission denied|Can't create\/write/i.test(text)) return 'the server cannot write its files: check RIG_TMP_DIR and RIG_SERVICE_USER'
  return undefined
}

function urlFor(user: string, password: string, port: number, database: string): string {
  return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`
}

async function start(flavor: Flavor, ctx: StartContext, o: MariadbOptions): Promise<Launched> {
  const server = await requireServer(ctx.name, flavor, o.binDir)
  const user = unprivilegedUser()
  const database = o.database ?? 'app'
  const dbUser = o.user ?? 'root'
  const password = o.password ?? newPassword()
  const cached = await ensureMariadbData({ server, database, owner: user?.name ?? 'self' }, user, () => ctx.notice(`initialising ${flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${server.version} data once (cached for next runs)`))
  const p: InstancePaths = {
    data: path.join(ctx.dir, 'data'),
    run: path.join(ctx.dir, 'run'),
    socket: path.join(ctx.dir, 'run', 'mysqld.sock'),
    pidFile: path.join(ctx.dir, 'run', 'mysqld.pid'),
    initFile: path.join(ctx.dir, 'run', 'init.sql'),
    tmp: path.join(ctx.dir, 'tmp'),
    files: path.join(ctx.dir, 'files'),
  }
  // Socket, init file and data: only the server's account (and root) may open them.
  privateServiceDir(ctx.dir, user)
  for (const d of [p.run, p.tmp, p.files]) fs.mkdirSync(d, { mode: 0o700 })
  chownForService(ctx.dir, user)
  await run('cp', ['-a', '--reflink=auto', cached, p.data])
  writeInitFile(p.initFile, initStatements(dbUser, password), user)
  const args = serverArgs(p, ctx.port, flavor, o.settings ?? {})
  return {
    host: '127.0.0.1',
    port: ctx.port,
    url: urlFor(dbUser, password, ctx.port, database),
    env: { DATABASE: database, USER: dbUser, PASSWORD: password, VERSION: server.version, SOCKET: p.socket },
    provider: 'process',
    launch: () => new ManagedProcess({ command: server.path, args, cwd: ctx.dir, user, stopSignal: 'SIGTERM', stopGraceMs: 10_000 }, ctx.logs),
    defaultReady: [mysqlQuery('select 1')],
    crashHint,
  }
}

async function doctor(flavor: Flavor): Promise<DoctorEntry[]> {
  const found = await findServer(flavor)
  const what = flavor === 'mariadb' ? 'mariadbd' : 'mysqld (MySQL)'
  if (!found) return [{ what, ok: false, detail: 'not found (needed only by services that use it)', fix: INSTALL_HINT[flavor] }]
  return [{ what, ok: true, detail: `${flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${found.version} at ${found.path}` }]
}

function kind(flavor: Flavor): ServiceKind<MariadbOptions> {
  return {
    name: flavor,
    optionKeys: ['binDir', 'database', 'user', 'password', 'settings'],
    errorPatterns: [/\[ERROR\]/],
    validate,
    drivers: [{ package: 'mysql2', purpose: 'readiness probe and guard' }],
    start: (ctx, o) => start(flavor, ctx, o),
    doctor: () => doctor(flavor),
  }
}

export const mariadbKind: ServiceKind<MariadbOptions> = kind('mariadb')
export const mysqlKind: ServiceKind<MariadbOptions> = kind('mysql')

/** A MariaDB server for the environment (`mariadbd`, or a `mysqld` that is MariaDB). */
export function mariadb(options: MariadbOptions & CommonOptions = {}): ServiceDefinition<MariadbOptions> {
  return defineService(mariadbKind, options)
}

/** A MySQL server for the environment: needs a `mysqld` that is MySQL (MariaDB's is refused: use {@link mariadb}). */
export function mysql(options: MariadbOptions & CommonOptions = {}): ServiceDefinition<MariadbOptions> {
  return defineService(mysqlKind, options)
}
