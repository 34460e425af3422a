// Benchmark of the environment engine: how fast rig brings real services to "ready", against
// the naive way (initdb + pg_ctl start -w) measured in the same run, on the same machine.
//
//   node bench/engine.bench.ts [--runs 15] [--cold-runs 3] [--no-write] [--strict]
//   node bench/engine.bench.ts --base DIR [--ab-runs 15] [--ten-runs 3] [--ab-only]   # + before/after
//
// With --base (a checkout of the commit to compare with, its node_modules linked:
//   git worktree add --detach /tmp/base main && ln -s "$PWD/node_modules" /tmp/base/node_modules)
// that checkout's engine runs in this process too, round by round against this one: warm
// postgres() and the 4-service environment, each started and stopped, one at a time and ten
// environments at once. Written to bench/results/engine-startstop.json and its own section of
// RESULTS.md; --ab-only runs that part alone.
//
// Writes bench/results/engine.json and the engine section of bench/RESULTS.md.
// See bench/README.md for what each figure means.
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { command, defineConfig, http, postgres, redis, startEnvironment, type EnvEvent, type Environment, type RigConfig } from '../src/index.ts'
import { tempRoot } from '../src/fs-safe/temp-root.ts'
import { freePort } from '../src/providers/process/ports.ts'
import { unprivilegedUser, type ServiceUser } from '../src/providers/process/user.ts'
import { findPostgres } from '../src/services/postgres/binaries.ts'
import { copyDataDir, ensureInitialised, postgresVersion } from '../src/services/postgres/init-cache.ts'
import { TEST_SPEED_SETTINGS } from '../src/services/postgres/index.ts'
import { sparesSettled } from '../src/services/postgres/spare.ts'
import { backgroundDone } from '../src/env/environment.ts'
import { backgroundSettled } from '../src/env/background.ts'
import { shutdownRedis } from '../src/services/redis/shutdown.ts'
import { formatSummary, round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const SELF = fileURLToPath(import.meta.url)
const FIXTURES = path.join(BENCH_DIR, 'fixtures')
const RESULTS_JSON = path.join(BENCH_DIR, 'results', 'engine.json')
const RESULTS_MD = path.join(BENCH_DIR, 'RESULTS.md')

const TARGETS = { postgresWarmMedianMs: 300, environmentMedianMs: 1000, postgresReadyFloorMs: 60, environmentStopMs: 30 } as const

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    'cold-runs': { type: 'string', default: '3' },
    'tuned-runs': { type: 'string', default: '5' },
    'fresh-runs': { type: 'string', default: '5' },
    'breakdown-runs': { type: 'string', default: '10' },
    'no-write': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    child: { type: 'string' },
    base: { type: 'string' },
    'ab-runs': { type: 'string', default: '15' },
    'ten-runs': { type: 'string', default: '3' },
    'ab-only': { type: 'boolean', default: false },
    'ab-fresh-runs': { type: 'string', default: '5' },
    src: { type: 'string' },
  },
})

// ---------------------------------------------------------------------------------------------
// Helpers

const now = (): number => performance.now()
const log = (msg: string): void => void process.stderr.write(`${msg}\n`)

function exec(cmd: string, argv: readonly string[], opts: { user?: ServiceUser | undefined; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...argv],
      { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}) },
      (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${argv.join(' ')}: ${(stderr || err.message).trim()}`)) : resolve(stdout)),
    )
  })
}

function chown(p: string, user: ServiceUser | undefined): void {
  if (user) fs.chownSync(p, user.uid, user.gid)
}

function chownTree(p: string, user: ServiceUser | undefined): void {
  if (!user) return
  fs.chownSync(p, user.uid, user.gid)
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), user)
}

/** Temp dir the unprivileged user can use. */
function tempDir(base: string, prefix: string, user: ServiceUser | undefined): string {
  const d = fs.mkdtempSync(path.join(base, prefix))
  fs.chmodSync(d, 0o755)
  chown(d, user)
  return d
}

async function selectOne(port: number, host = '127.0.0.1'): Promise<void> {
  const c = new pg.Client({ host, port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 })
  c.on('error', () => {})
  try {
    await c.connect()
    await c.query('select 1')
  } finally {
    await c.end().catch(() => {})
  }
}

function dirStats(dir: string): { bytes: number; files: number } {
  let bytes = 0
  let files = 0
  const walk = (p: string): void => {
    const st = fs.lstatSync(p)
    files++
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e))
    else bytes += st.size
  }
  walk(dir)
  return { bytes, files }
}

/** Pids of processes whose command line contains one of `needles` (our own leftovers). */
function processesMatching(needles: readonly string[]): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    let cmd: string
    try {
      cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
    } catch {
      continue
    }
    if (needles.some((n) => cmd.includes(n))) out.push({ pid: Number(e), cmd })
  }
  return out
}

type Phase = { pre: number; prepare: number; readyWait: number; failedProbes: number }

/** Splits one service's start into phases, from the environment's events. */
function phasesOf(events: readonly EnvEvent[], service: string): Phase {
  const at = (type: EnvEvent['type']): number => events.find((e) => e.service === service && e.type === type)?.at ?? Number.NaN
  const starting = at('starting')
  const started = at('started')
  const ready = at('ready')
  return { pre: starting, prepare: started - starting, readyWait: ready - started, failedProbes: events.filter((e) => e.service === service && e.type === 'probing').length }
}

function summarizePhases(ps: readonly Phase[]): Record<keyof Phase, Summary> {
  return {
    pre: summarize(ps.map((p) => p.pre)),
    prepare: summarize(ps.map((p) => p.prepare)),
    readyWait: summarize(ps.map((p) => p.readyWait)),
    failedProbes: summarize(ps.map((p) => p.failedProbes)),
  }
}

// ---------------------------------------------------------------------------------------------
// What is measured

const pgConfig = (): RigConfig => defineConfig({ services: { db: postgres() } })

const envConfig = (): RigConfig =>
  defineConfig({
    services: {
      db: postgres(),
      cache: redis(),
      api: command({
        run: [process.execPath, path.join(FIXTURES, 'api.ts')],
        dependsOn: ['db', 'cache'],
        env: { DATABASE_URL: '{db.url}', REDIS_URL: '{cache.url}', PORT: '{port}' },
        ready: http('/health'),
      }),
      web: command({
        run: [process.execPath, path.join(FIXTURES, 'web.ts')],
        dependsOn: ['api'],
        env: { API_URL: '{api.url}', PORT: '{port}' },
        ready: http('/health'),
      }),
    },
  })

/** The log line each kind writes once it accepts connections. */
const UP_LINE: Record<string, RegExp> = { db: /ready to accept connections/, cache: /Ready to accept connections/, api: /listening on/, web: /listening on/ }

/** Per service, from its own log: spawn → "accepting connections" line, and that line → rig saw it ready. */
interface UpSplit {
  spawnToUp: number
  upToReady: number
}

interface RigRun {
  readyMs: number
  stopMs: number
  events: EnvEvent[]
  readyAt: Record<string, number>
  up: Record<string, UpSplit>
  envDir: string
}

const envDirs: string[] = []

async function rigOnce(config: RigConfig): Promise<RigRun> {
  // Wall-clock stamps (ms, like the log lines') of each service's spawn and readiness.
  const spawnedAt: Record<string, number> = {}
  const readyWall: Record<string, number> = {}
  const onEvent = (e: EnvEvent): void => {
    if (e.type === 'started') spawnedAt[e.service] = Date.now()
    if (e.type === 'ready') readyWall[e.service] = Date.now()
  }
  const t0 = now()
  const env: Environment = await startEnvironment(config, { onEvent })
  const readyMs = now() - t0
  envDirs.push(env.dir)
  const up: Record<string, UpSplit> = {}
  for (const [name, svc] of Object.entries(env.services)) {
    const re = UP_LINE[name]
    const line = re ? svc.logs.tail(1000).find((l) => l.stream !== 'rig' && re.test(l.text)) : undefined
    const spawned = spawnedAt[name]
    const ready = readyWall[name]
    if (line && spawned !== undefined && ready !== undefined) up[name] = { spawnToUp: line.at - spawned, upToReady: ready - line.at }
  }
  const t1 = now()
  await env.stop()
  const stopMs = now() - t1
  // The next start's data dir is copied in the background once a PostgreSQL is ready: let it
  // finish outside the timed part, as it does between two test runs (its cost: spareCopy).
  await sparesSettled()
  const readyAt = Object.fromEntries(Object.entries(env.services).map(([k, s]) => [k, s.readyMs ?? Number.NaN]))
  return { readyMs, stopMs, events: [...env.events], readyAt, up, envDir: env.dir }
}

function summarizeUp(runs: readonly RigRun[], service: string): { spawnToUp: Summary; upToReady: Summary } {
  const xs = runs.map((r) => r.up[service]).filter((u): u is UpSplit => u !== undefined)
  return { spawnToUp: summarize(xs.map((u) => u.spawnToUp)), upToReady: summarize(xs.map((u) => u.upToReady)) }
}

interface Pg {
  bin: string
  binDir: string
  version: string
  user: ServiceUser | undefined
}

interface NaiveRun {
  readyMs: number
  initdbMs: number
  startMs: number
  queryMs: number
  stopMs: number
}

const naiveDirs: string[] = []

/**
 * The naive way: initdb into a fresh temp dir, `pg_ctl start -w`, first `select 1`.
 * `tuned` adds what an informed user would: `--no-sync` and a tmpfs data dir.
 */
async function naiveOnce(p: Pg, tuned: boolean): Promise<NaiveRun> {
  const base = tuned ? path.dirname(tempRoot()) : os.tmpdir()
  const dir = tempDir(base, 'rig-bench-naive-', p.user)
  naiveDirs.push(dir)
  const data = path.join(dir, 'data')
  const pgCtl = path.join(p.binDir, 'pg_ctl')
  let started = false
  try {
    const t0 = now()
    await exec(path.join(p.binDir, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', ...(tuned ? ['--no-sync'] : [])], { user: p.user, cwd: dir })
    const t1 = now()
    const port = await freePort()
    started = true
    await exec(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o', `-p ${port} -h 127.0.0.1 -k ${dir}`, 'start'], { user: p.user, cwd: dir })
    const t2 = now()
    await selectOne(port)
    const t3 = now()
    await exec(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'], { user: p.user, cwd: dir })
    started = false
    const t4 = now()
    return { readyMs: t3 - t0, initdbMs: t1 - t0, startMs: t2 - t1, queryMs: t3 - t2, stopMs: t4 - t3 }
  } finally {
    if (started) await exec(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], { user: p.user, cwd: dir }).catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

interface ChildResult {
  readyMs: number
  sinceProcessStartMs: number
  stopMs: number
  events: EnvEvent[]
  envDir: string
}

/** One start in a fresh Node process (so nothing is warm in-process: modules, driver, version). */
async function childOnce(mode: 'cold' | 'warm-fresh'): Promise<ChildResult & { cacheDir?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  let cacheDir: string | undefined
  if (mode === 'cold') {
    cacheDir = tempDir(os.tmpdir(), 'rig-bench-cold-cache-', undefined)
    env.RIG_CACHE_DIR = cacheDir
  }
  try {
    const out = await exec(process.execPath, ['--no-warnings', SELF, '--child', mode], { env, cwd: path.dirname(BENCH_DIR) })
    const last = out.trim().split('\n').pop() ?? '{}'
    const r = JSON.parse(last) as ChildResult
    envDirs.push(r.envDir)
    return cacheDir ? { ...r, cacheDir } : r
  } finally {
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true })
  }
}

async function childMain(): Promise<void> {
  const t0 = now()
  const env = await startEnvironment(pgConfig())
  const readyMs = now() - t0
  const sinceProcessStartMs = now()
  const t1 = now()
  await env.stop()
  const stopMs = now() - t1
  process.stdout.write(`${JSON.stringify({ readyMs, sinceProcessStartMs, stopMs, events: env.events, envDir: env.dir } satisfies ChildResult)}\n`)
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: each step of a warm start measured on its own.

interface Breakdown {
  dataDir: { path: string; bytes: number; files: number }
  tempRoot: string
  copyDataDir: Summary
  spawnTrue: Summary
  nodeStartup: Summary
  cpSyncThenChown: Summary
  rmDataDir: Summary
  serverSpawnToQuery: Summary
  serverSpawnToLogReady: Summary
  serverStop: Summary
  serverStopImmediate: Summary
  fixtureSpawnToListening: Summary
  /** The api fixture: SIGTERM → exit (a command() service's stop, the step a dependent adds to a stop). */
  fixtureStop: Summary
  /** Redis: `SHUTDOWN NOSAVE` over a connection → exit (rig's teardown), and SIGTERM → exit (in turn). */
  redisStopNosave: Summary
  redisStopSigterm: Summary
  postgresVersionExec: Summary
}

async function breakdown(p: Pg, runs: number): Promise<Breakdown> {
  const cached = await ensureInitialised({ binDir: p.binDir, version: p.version, user: 'postgres', database: 'postgres', initdbArgs: [], owner: p.user?.name ?? 'self' }, p.user)
  const base = tempDir(path.dirname(tempRoot()), 'rig-bench-breakdown-', p.user)
  const copy: number[] = []
  const spawnTrue: number[] = []
  const nodeStartup: number[] = []
  const cpSync: number[] = []
  const rm: number[] = []
  const toQuery: number[] = []
  const toLog: number[] = []
  const stop: number[] = []
  const stopImmediate: number[] = []
  const fixture: number[] = []
  const fixtureStop: number[] = []
  const redisNosave: number[] = []
  const redisSigterm: number[] = []
  const versionExec: number[] = []
  try {
    for (let i = 0; i < runs; i++) {
      // cp -a of the cached data dir, exactly as rig does it.
      const d1 = path.join(base, `cp-${i}`)
      let t = now()
      await copyDataDir(cached, d1)
      copy.push(now() - t)
      // `postgres --version`, which rig runs once per process (memoised).
      t = now()
      await exec(p.bin, ['--version'])
      versionExec.push(now() - t)
      // The cost of a fork+exec alone (what `cp` pays before copying a byte).
      t = now()
      await exec('/bin/true', [])
      spawnTrue.push(now() - t)
      // A Node.js start-up (what the watchdog and each node fixture cost in CPU).
      t = now()
      await exec(process.execPath, ['-e', '0'])
      nodeStartup.push(now() - t)
      // In-process copy as an alternative: fs.cpSync then chown of the tree.
      const d2 = path.join(base, `cpsync-${i}`)
      t = now()
      fs.cpSync(cached, d2, { recursive: true, preserveTimestamps: true })
      chownTree(d2, p.user)
      cpSync.push(now() - t)
      t = now()
      fs.rmSync(d2, { recursive: true, force: true })
      rm.push(now() - t)

      // The server's own floor: spawn postgres on the copy, poll `select 1` every 2 ms (on the
      // socket, as rig's first readiness step does: TCP logins need the password rig sets then).
      const port = await freePort()
      const sock = path.join(base, `sock-${i}`)
      fs.mkdirSync(sock)
      chown(sock, p.user)
      const argv = ['-D', d1, '-p', String(port), '-h', '127.0.0.1', '-k', sock]
      for (const [k, v] of Object.entries(TEST_SPEED_SETTINGS)) argv.push('-c', `${k}=${v}`)
      const ts = now()
      const child = spawn(p.bin, argv, { cwd: base, stdio: ['ignore', 'ignore', 'pipe'], ...(p.user ? { uid: p.user.uid, gid: p.user.gid } : {}) })
      const exited = new Promise<void>((r) => child.once('close', () => r()))
      let logReady = Number.NaN
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (s: string) => {
        if (Number.isNaN(logReady) && s.includes('ready to accept connections')) logReady = now() - ts
      })
      try {
        for (;;) {
          try {
            await selectOne(port, sock)
            break
          } catch {
            if (now() - ts > 10_000) throw new Error('server floor: postgres not ready after 10 s')
            await new Promise((r) => setTimeout(r, 2))
          }
        }
        toQuery.push(now() - ts)
        toLog.push(logReady)
      } finally {
        const tk = now()
        // Fast shutdown (a restart's) and immediate shutdown (a teardown's), in turn.
        child.kill(i % 2 ? 'SIGQUIT' : 'SIGINT')
        await exited
        ;(i % 2 ? stopImmediate : stop).push(now() - tk)
        fs.rmSync(d1, { recursive: true, force: true })
      }

      // A command() fixture alone: spawn → its "listening" line.
      const fport = await freePort()
      const tf = now()
      const fx = spawn(process.execPath, [path.join(FIXTURES, 'api.ts')], { env: { ...process.env, PORT: String(fport) }, stdio: ['ignore', 'pipe', 'ignore'] })
      const fxExited = new Promise<void>((r) => fx.once('close', () => r()))
      await new Promise<void>((resolve) => {
        fx.stdout.setEncoding('utf8')
        fx.stdout.on('data', (s: string) => {
          if (s.includes('listening on')) resolve()
        })
        fx.once('close', () => resolve())
      })
      fixture.push(now() - tf)
      const tfs = now()
      fx.kill('SIGTERM')
      await fxExited
      fixtureStop.push(now() - tfs)

      // Redis alone: spawn, "Ready to accept connections", then SHUTDOWN NOSAVE or SIGTERM → exit.
      const rport = await freePort()
      const rs = spawn('redis-server', ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', base], { cwd: base, stdio: ['ignore', 'pipe', 'ignore'] })
      const rsExited = new Promise<void>((r) => rs.once('close', () => r()))
      await new Promise<void>((resolve) => {
        rs.stdout.setEncoding('utf8')
        rs.stdout.on('data', (s: string) => {
          if (s.includes('Ready to accept connections')) resolve()
        })
        rs.once('close', () => resolve())
      })
      const trs = now()
      if (i % 2) rs.kill('SIGTERM')
      else await shutdownRedis(`redis://127.0.0.1:${rport}`, true).catch(() => rs.kill('SIGTERM'))
      await rsExited
      ;(i % 2 ? redisSigterm : redisNosave).push(now() - trs)
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true })
  }
  return {
    dataDir: { path: cached, ...dirStats(cached) },
    tempRoot: tempRoot(),
    copyDataDir: summarize(copy),
    spawnTrue: summarize(spawnTrue),
    nodeStartup: summarize(nodeStartup),
    cpSyncThenChown: summarize(cpSync),
    rmDataDir: summarize(rm),
    serverSpawnToQuery: summarize(toQuery),
    serverSpawnToLogReady: summarize(toLog.filter((x) => !Number.isNaN(x))),
    serverStop: summarize(stop),
    serverStopImmediate: summarize(stopImmediate),
    fixtureSpawnToListening: summarize(fixture),
    fixtureStop: summarize(fixtureStop),
    redisStopNosave: summarize(redisNosave),
    redisStopSigterm: summarize(redisSigterm),
    postgresVersionExec: summarize(versionExec),
  }
}

// ---------------------------------------------------------------------------------------------
// Before/after: another checkout's engine in this process, round by round.

type Rig = typeof import('../src/index.ts')

const pgConfigOf = (I: Rig): RigConfig => I.defineConfig({ services: { db: I.postgres() } })
const envConfigOf = (I: Rig): RigConfig =>
  I.defineConfig({
    services: {
      db: I.postgres(),
      cache: I.redis(),
      api: I.command({
        run: [process.execPath, path.join(FIXTURES, 'api.ts')],
        dependsOn: ['db', 'cache'],
        env: { DATABASE_URL: '{db.url}', REDIS_URL: '{cache.url}', PORT: '{port}' },
        ready: I.http('/health'),
      }),
      web: I.command({ run: [process.execPath, path.join(FIXTURES, 'web.ts')], dependsOn: ['api'], env: { API_URL: '{api.url}', PORT: '{port}' }, ready: I.http('/health') }),
    },
  })

interface AbRun {
  readyMs: number
  stopMs: number
  /** Per service: `stopping` → `stopped`. */
  stopOf: Record<string, number>
  /** The `db` service's start, split: before it starts, prepare, spawn → "ready to accept connections", that line → ready. */
  db: { pre: number; prepare: number; spawnToUp: number; upToReady: number }
}

async function abOnce(I: Rig, config: RigConfig): Promise<AbRun> {
  let spawnedWall = Number.NaN
  let readyWall = Number.NaN
  const onEvent = (e: EnvEvent): void => {
    if (e.service !== 'db') return
    if (e.type === 'started') spawnedWall = Date.now()
    if (e.type === 'ready') readyWall = Date.now()
  }
  const t0 = now()
  const env = await I.startEnvironment(config, { onEvent })
  const readyMs = now() - t0
  envDirs.push(env.dir)
  const ph = phasesOf(env.events, 'db')
  const upLine = env.services.db?.logs.tail(1000).find((l) => l.stream !== 'rig' && UP_LINE.db?.test(l.text))
  const db = { pre: ph.pre, prepare: ph.prepare, spawnToUp: upLine ? upLine.at - spawnedWall : Number.NaN, upToReady: upLine ? readyWall - upLine.at : Number.NaN }
  const began: Record<string, number> = {}
  const stopOf: Record<string, number> = {}
  env.on((e) => {
    if (e.type === 'stopping') began[e.service] = now()
    if (e.type === 'stopped' && began[e.service] !== undefined) stopOf[e.service] = now() - (began[e.service] as number)
  })
  const t1 = now()
  await env.stop()
  const stopMs = now() - t1
  await settleSpares()
  return { readyMs, stopMs, stopOf, db }
}

interface TenRun {
  /** Each environment's own start → ready. */
  readyEach: number[]
  /** Start of all ten → the last one ready. */
  allReadyMs: number
  /** `stop()` of all ten at once → all resolved. */
  stopAllMs: number
}

async function tenOnce(I: Rig): Promise<TenRun> {
  const t0 = now()
  const envs = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const t = now()
      const env = await I.startEnvironment(pgConfigOf(I))
      return { env, readyMs: now() - t }
    }),
  )
  const allReadyMs = now() - t0
  for (const e of envs) envDirs.push(e.env.dir)
  const t1 = now()
  await Promise.all(envs.map((e) => e.env.stop()))
  const stopAllMs = now() - t1
  await settleSpares()
  return { readyEach: envs.map((e) => e.readyMs), allReadyMs, stopAllMs }
}

/** Time of one spare copy made in the background (the work moved off the path to ready). */
async function spareCopyOnce(I: Rig): Promise<number> {
  const env = await I.startEnvironment(pgConfigOf(I))
  envDirs.push(env.dir)
  const t = now()
  await settleSpares()
  const copyMs = now() - t
  await env.stop()
  return copyMs
}

interface AbSide {
  pg: AbRun[]
  env: AbRun[]
  ten: TenRun[]
  /** Warm starts, each in a new Node process. */
  fresh: ChildResult[]
}

/**
 * The spares of both sides (each checkout's module makes its own) and the removal of their
 * stopped environments' dirs (in the background, ~1000 files each) are let finish between two
 * measurements: the side measured second must not start beside the first side's leftovers.
 * `backgroundSettled` where a side has it: the watchdog a stop keeps for the process's next start
 * stays, as in any process that starts environments one after another (`backgroundDone`, which
 * ends it, is for the end of a run).
 */
const settlers: (() => Promise<void>)[] = [sparesSettled, backgroundSettled]
/** Each side's `backgroundDone`: at the end, nothing of either may be left running. */
const enders: (() => Promise<void>)[] = [backgroundDone]
async function endBackground(): Promise<void> {
  for (const end of enders) await end()
}
async function settleSpares(): Promise<void> {
  for (const settle of settlers) await settle()
}

/** A spare module's `sparesSettled` of another checkout, when it has one. */
async function settlerOf(dir: string): Promise<(() => Promise<void>) | undefined> {
  const file = path.resolve(dir, 'src/services/postgres/spare.ts')
  if (!fs.existsSync(file)) return undefined
  return ((await import(pathToFileURL(file).href)) as { sparesSettled?: () => Promise<void> }).sparesSettled
}

/** A warm start in a new Node process of `src` (this checkout or the base): what a test runner's worker pays once. */
async function abFreshOnce(src: string): Promise<ChildResult> {
  const out = await exec(process.execPath, ['--no-warnings', SELF, '--child', 'ab-fresh', '--src', src], { cwd: path.dirname(BENCH_DIR) })
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult
  envDirs.push(r.envDir)
  return r
}

/** --child ab-fresh: one warm `postgres()` start and stop with `--src`'s engine; waits (untimed) for its spare, as a test run would leave it. */
async function abFreshChild(): Promise<void> {
  const src = path.resolve(args.src as string)
  const I = (await import(pathToFileURL(path.join(src, 'src/index.ts')).href)) as Rig
  const t0 = now()
  const env = await I.startEnvironment(pgConfigOf(I))
  const readyMs = now() - t0
  const sinceProcessStartMs = now()
  const t1 = now()
  await env.stop()
  const stopMs = now() - t1
  await (await settlerOf(src))?.()
  process.stdout.write(`${JSON.stringify({ readyMs, sinceProcessStartMs, stopMs, events: env.events, envDir: env.dir } satisfies ChildResult)}\n`)
}

async function beforeAfter(baseDir: string, runs: number, tenRuns: number, freshRuns = 0): Promise<{ commit: string; base: AbSide; after: AbSide; spareCopy: Summary }> {
  const base = (await import(pathToFileURL(path.resolve(baseDir, 'src/index.ts')).href)) as Rig
  const baseSettle = await settlerOf(baseDir)
  if (baseSettle && baseSettle !== sparesSettled) settlers.push(baseSettle)
  const envFile = path.resolve(baseDir, 'src/env/environment.ts')
  // An older checkout calls it dirsRemoved.
  const baseEnv = fs.existsSync(envFile) ? ((await import(pathToFileURL(envFile).href)) as { backgroundDone?: () => Promise<void>; dirsRemoved?: () => Promise<void> }) : undefined
  const bgFile = path.resolve(baseDir, 'src/env/background.ts')
  const baseBg = fs.existsSync(bgFile) ? ((await import(pathToFileURL(bgFile).href)) as { backgroundSettled?: () => Promise<void> }) : undefined
  const baseRemoved = baseBg?.backgroundSettled ?? baseEnv?.backgroundDone ?? baseEnv?.dirsRemoved
  if (baseRemoved && baseRemoved !== backgroundSettled) settlers.push(baseRemoved)
  if (baseEnv?.backgroundDone && baseEnv.backgroundDone !== backgroundDone) enders.push(baseEnv.backgroundDone)
  const after = (await import('../src/index.ts')) as Rig
  const commit = (await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: baseDir }).catch(() => '?')).trim()
  const sides = { base: { pg: [], env: [], ten: [], fresh: [] } as AbSide, after: { pg: [], env: [], ten: [], fresh: [] } as AbSide }
  // Warm-up of each side (modules, driver, the spare of this one).
  for (const I of [base, after]) {
    await abOnce(I, pgConfigOf(I))
    await abOnce(I, envConfigOf(I))
  }
  const order = (i: number): ('base' | 'after')[] => (i % 2 ? ['after', 'base'] : ['base', 'after'])
  for (let i = 0; i < runs; i++) {
    for (const side of order(i)) {
      const I = side === 'base' ? base : after
      sides[side].pg.push(await abOnce(I, pgConfigOf(I)))
      sides[side].env.push(await abOnce(I, envConfigOf(I)))
    }
    const b = sides.base
    const a = sides.after
    log(`before/after ${i + 1}/${runs}: postgres ${ms(b.pg.at(-1)?.readyMs ?? 0)} → ${ms(a.pg.at(-1)?.readyMs ?? 0)}, stop ${ms(b.pg.at(-1)?.stopMs ?? 0)} → ${ms(a.pg.at(-1)?.stopMs ?? 0)}; environment stop ${ms(b.env.at(-1)?.stopMs ?? 0)} → ${ms(a.env.at(-1)?.stopMs ?? 0)}`)
  }
  for (let i = 0; i < tenRuns; i++) {
    for (const side of order(i)) sides[side].ten.push(await tenOnce(side === 'base' ? base : after))
    log(`ten environments ${i + 1}/${tenRuns}: all ready ${ms(sides.base.ten.at(-1)?.allReadyMs ?? 0)} → ${ms(sides.after.ten.at(-1)?.allReadyMs ?? 0)}`)
  }
  for (let i = 0; i < freshRuns; i++) {
    for (const side of order(i)) sides[side].fresh.push(await abFreshOnce(side === 'base' ? path.resolve(baseDir) : path.dirname(BENCH_DIR)))
    log(`fresh process ${i + 1}/${freshRuns}: ready ${ms(sides.base.fresh.at(-1)?.readyMs ?? 0)} → ${ms(sides.after.fresh.at(-1)?.readyMs ?? 0)}`)
  }
  const copies: number[] = []
  for (let i = 0; i < 5; i++) copies.push(await spareCopyOnce(after))
  return { commit, base: sides.base, after: sides.after, spareCopy: summarize(copies) }
}

function summarizeSide(side: AbSide) {
  const services = ['db', 'cache', 'api', 'web']
  return {
    postgresReady: summarize(side.pg.map((r) => r.readyMs)),
    postgresStop: summarize(side.pg.map((r) => r.stopMs)),
    postgresPhases: Object.fromEntries((['pre', 'prepare', 'spawnToUp', 'upToReady'] as const).map((k) => [k, summarize(side.pg.map((r) => r.db[k]).filter((x) => !Number.isNaN(x)))])) as Record<keyof AbRun['db'], Summary>,
    environmentReady: summarize(side.env.map((r) => r.readyMs)),
    environmentStop: summarize(side.env.map((r) => r.stopMs)),
    serviceStop: Object.fromEntries(services.map((s) => [s, summarize(side.env.map((r) => r.stopOf[s] ?? Number.NaN).filter((x) => !Number.isNaN(x)))])) as Record<string, Summary>,
    tenReadyEach: summarize(side.ten.flatMap((r) => r.readyEach)),
    tenAllReady: summarize(side.ten.map((r) => r.allReadyMs)),
    tenStopAll: summarize(side.ten.map((r) => r.stopAllMs)),
    freshReady: summarize(side.fresh.map((r) => r.readyMs)),
    freshPrepare: summarize(side.fresh.map((r) => phasesOf(r.events, 'db').prepare).filter((x) => !Number.isNaN(x))),
  }
}

// ---------------------------------------------------------------------------------------------
// Output

type SideSummary = ReturnType<typeof summarizeSide>

function beforeAfterMd(r: { baseCommit: string; runs: number; tenRuns: number; before: SideSummary; after: SideSummary; spareCopy: Summary }): string {
  const { before: b, after: a } = r
  const ratio = (x: Summary, y: Summary): string => `${round(y.median / x.median, 2)}×`
  const row = (what: string, x: Summary, y: Summary, target = '—'): string =>
    `| ${what} | ${ms(x.median)} (${ms(x.p90)}) | ${ms(y.median)} (${ms(y.p90)}) | ${ratio(x, y)} | ${target} |`
  const verdict = (y: Summary, limit: number): string => `≤ ${limit} ms: **${y.median <= limit ? 'pass' : 'MISS'}**`
  return `
### Before / after: start and stop (\`--base\`)

The engine of commit \`${r.baseCommit}\` (before) and of this checkout (after), in this process, ${r.runs} rounds alternating which goes first, then ${r.tenRuns} rounds of ten environments started at once. After each start and stop, both sides' background work (the next spare data dir, the removal of the stopped environments' dirs) is let finish before the next measurement (as between two test runs; one spare of this checkout, its copy and its password step, takes ${ms(r.spareCopy.median)}, off the path to ready). Medians (p90).

| figure | before | after | after / before | target |
|---|---|---|---|---|
${row('`postgres()` ready, warm', b.postgresReady, a.postgresReady, verdict(a.postgresReady, TARGETS.postgresReadyFloorMs))}
${row('… before the service starts (validation, stale sweep, watchdog, log files)', b.postgresPhases.pre, a.postgresPhases.pre)}
${row('… prepare (port, cache lookup, spare data dir, spawn)', b.postgresPhases.prepare, a.postgresPhases.prepare)}
${row('… spawn → PostgreSQL logs "ready to accept connections" (the server)', b.postgresPhases.spawnToUp, a.postgresPhases.spawnToUp)}
${row('… that line → ready (before: socket login, password set; after: none when the spare came with its password)', b.postgresPhases.upToReady, a.postgresPhases.upToReady)}
${row('`postgres()` stop', b.postgresStop, a.postgresStop)}
${row('Postgres + Redis + 2 `command()` ready', b.environmentReady, a.environmentReady)}
${row('Postgres + Redis + 2 `command()` stop', b.environmentStop, a.environmentStop, verdict(a.environmentStop, TARGETS.environmentStopMs))}
${Object.keys(a.serviceStop)
  .map((k) => row(`… of which \`${k}\` (stopping → stopped)`, b.serviceStop[k] as Summary, a.serviceStop[k] as Summary))
  .join('\n')}
${
  b.freshReady.n > 0
    ? `${row('`postgres()` ready, warm, first start in a new Node process', b.freshReady, a.freshReady)}
${row('… prepare (the first `postgres --version` of the process included)', b.freshPrepare, a.freshPrepare)}
`
    : ''
}${
  r.tenRuns > 0
    ? `${row('10 `postgres()` environments at once: each ready', b.tenReadyEach, a.tenReadyEach)}
${row('… all ten ready', b.tenAllReady, a.tenAllReady)}
${row('… all ten stopped (at once)', b.tenStopAll, a.tenStopAll)}
`
    : ''
}`
}

function writeResultsMd(section: string): void {
  writeResultsSection('engine', section)
}

const ms = (x: number): string => `${Math.round(x)} ms`
const cell = (s: Summary): string => `${ms(s.median)} | ${ms(s.p90)} | ${ms(s.min)} | ${ms(s.max)} | ${s.n}`

// ---------------------------------------------------------------------------------------------

type AbResult = NonNullable<ReturnType<typeof abResult>>

function abResult(ab: Awaited<ReturnType<typeof beforeAfter>> | undefined, runs: number, tenRuns: number) {
  return ab ? { baseCommit: ab.commit, runs, tenRuns, before: summarizeSide(ab.base), after: summarizeSide(ab.after), spareCopy: ab.spareCopy } : undefined
}

function writeStartStop(ab: AbResult, md: string, machine: object): void {
  const file = path.join(BENCH_DIR, 'results', 'engine-startstop.json')
  fs.writeFileSync(file, `${JSON.stringify({ benchmark: 'engine-startstop', date: new Date().toISOString(), machine, beforeAfter: ab }, null, 2)}\n`)
  writeResultsSection('engine-startstop', md)
  log(`wrote ${path.relative(process.cwd(), file)} and the engine-startstop section of ${path.relative(process.cwd(), RESULTS_MD)}`)
}

/** --ab-only: the before/after of start and stop, nothing else. */
async function abOnlyMain(): Promise<void> {
  if (!args.base) throw new Error('--ab-only needs --base DIR')
  const loadBefore = os.loadavg()
  const began = now()
  const runs = Number(args['ab-runs'])
  const tenRuns = Number(args['ten-runs'])
  const ab = abResult(await beforeAfter(args.base, runs, tenRuns, Number(args['ab-fresh-runs'])), runs, tenRuns) as AbResult
  await endBackground()
  const gitCommit = (await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR }).catch(() => '')).trim()
  const machine = { cpus: os.cpus().length, node: process.version, loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: os.loadavg().map((x) => round(x, 2)), gitCommit, durationS: round((now() - began) / 1000) }
  const md = `## Start and stop, before / after (\`bench/engine.bench.ts --base\`)

${new Date().toISOString().slice(0, 10)}, commit \`${gitCommit}\` against \`${ab.baseCommit}\`; ${machine.cpus} CPUs, Node ${machine.node}; load average ${machine.loadAvgBefore.join(' / ')} before, ${machine.loadAvgAfter.join(' / ')} after (other work shares this machine: read the ratios); total ${machine.durationS} s.
${beforeAfterMd(ab)}`
  const { before: b, after: a } = ab
  log(`postgres() ready ${ms(b.postgresReady.median)} → ${ms(a.postgresReady.median)}; stop ${ms(b.postgresStop.median)} → ${ms(a.postgresStop.median)}; 4 services stop ${ms(b.environmentStop.median)} → ${ms(a.environmentStop.median)}`)
  if (!args['no-write']) writeStartStop(ab, md, machine)
  else log(md)
}

async function main(): Promise<void> {
  const runs = Number(args.runs)
  const coldRuns = Number(args['cold-runs'])
  const tunedRuns = Number(args['tuned-runs'])
  const freshRuns = Number(args['fresh-runs'])
  const breakdownRuns = Number(args['breakdown-runs'])
  const began = now()
  const loadBefore = os.loadavg()

  const found = findPostgres({})
  if (!found.path) throw new Error('no PostgreSQL binary found: the engine benchmark needs one (apt-get install postgresql)')
  const bin = fs.realpathSync(found.path)
  const p: Pg = { bin, binDir: path.dirname(bin), version: await postgresVersion(bin), user: unprivilegedUser() }
  const redisVersion = (await exec('redis-server', ['--version']).catch(() => '')).match(/v=(\S+)/)?.[1] ?? 'unknown'
  log(`engine bench: PostgreSQL ${p.version} (${p.binDir}), Redis ${redisVersion}, ${os.cpus().length} CPUs, Node ${process.version}; ${runs} runs`)

  // Warm-up (not counted): fills the init cache if it is empty, loads the pg driver and the
  // fixtures' code into the page cache.
  const warmupPg = await rigOnce(pgConfig())
  const warmupWasCold = warmupPg.events.some((e) => e.type === 'notice' && /initialising/.test(e.message))
  await rigOnce(envConfig())
  await naiveOnce(p, false)
  log(`warm-up done${warmupWasCold ? ' (the init cache was empty: filled it)' : ''}`)

  // Interleaved, so that load from other work on the machine hits every series alike.
  const warm: RigRun[] = []
  const naive: NaiveRun[] = []
  const envRuns: RigRun[] = []
  for (let i = 0; i < runs; i++) {
    warm.push(await rigOnce(pgConfig()))
    naive.push(await naiveOnce(p, false))
    envRuns.push(await rigOnce(envConfig()))
    const w = warm.at(-1) as RigRun
    const n = naive.at(-1) as NaiveRun
    const e = envRuns.at(-1) as RigRun
    log(`run ${i + 1}/${runs}: rig postgres ${ms(w.readyMs)} (stop ${ms(w.stopMs)}), naive ${ms(n.readyMs)} (stop ${ms(n.stopMs)}), environment ${ms(e.readyMs)} (stop ${ms(e.stopMs)})`)
  }
  const tuned: NaiveRun[] = []
  for (let i = 0; i < tunedRuns; i++) {
    tuned.push(await naiveOnce(p, true))
    log(`naive tuned ${i + 1}/${tunedRuns}: ${ms((tuned.at(-1) as NaiveRun).readyMs)}`)
  }
  const cold: ChildResult[] = []
  for (let i = 0; i < coldRuns; i++) {
    cold.push(await childOnce('cold'))
    log(`cold ${i + 1}/${coldRuns}: ${ms((cold.at(-1) as ChildResult).readyMs)}`)
  }
  const fresh: ChildResult[] = []
  for (let i = 0; i < freshRuns; i++) {
    fresh.push(await childOnce('warm-fresh'))
    log(`warm, fresh process ${i + 1}/${freshRuns}: ${ms((fresh.at(-1) as ChildResult).readyMs)}`)
  }
  log('breakdown…')
  const bd = await breakdown(p, breakdownRuns)
  const abRuns = Number(args['ab-runs'])
  const tenRuns = Number(args['ten-runs'])
  const ab = args.base ? await beforeAfter(args.base, abRuns, tenRuns) : undefined

  await endBackground()
  // Nothing of ours may be left running.
  // Servers run with their instance dir on the command line: those are certainly ours and are
  // killed; anything else that matches is only reported.
  const ours = [...envDirs, ...naiveDirs]
  const needles = [...ours, path.join(FIXTURES, 'api.ts'), path.join(FIXTURES, 'web.ts')]
  // A watchdog released by the last stop exits on its own a moment later (seconds on a loaded machine).
  for (const deadline = now() + 5000; processesMatching(needles).length > 0 && now() < deadline; ) await new Promise((r) => setTimeout(r, 50))
  const leftovers = processesMatching(needles)
  for (const l of leftovers) {
    log(`LEFTOVER process ${l.pid}: ${l.cmd}`)
    if (!ours.some((d) => l.cmd.includes(d))) continue
    try {
      process.kill(l.pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }

  const warmReady = summarize(warm.map((r) => r.readyMs))
  const naiveReady = summarize(naive.map((r) => r.readyMs))
  const tunedReady = summarize(tuned.map((r) => r.readyMs))
  const envReady = summarize(envRuns.map((r) => r.readyMs))
  const warmPhases = summarizePhases(warm.map((r) => phasesOf(r.events, 'db')))
  const envServices = Object.fromEntries(
    ['db', 'cache', 'api', 'web'].map((s) => [s, { readyAt: summarize(envRuns.map((r) => r.readyAt[s] ?? Number.NaN)), phases: summarizePhases(envRuns.map((r) => phasesOf(r.events, s))), ...summarizeUp(envRuns, s) }]),
  ) as Record<string, { readyAt: Summary; phases: Record<keyof Phase, Summary>; spawnToUp: Summary; upToReady: Summary }>
  const targets = [
    { name: 'postgres() ready, warm cache (median)', targetMs: TARGETS.postgresWarmMedianMs, actualMs: warmReady.median, pass: warmReady.median <= TARGETS.postgresWarmMedianMs },
    { name: 'Postgres + Redis + 2 command() services ready (median)', targetMs: TARGETS.environmentMedianMs, actualMs: envReady.median, pass: envReady.median <= TARGETS.environmentMedianMs },
  ]
  const gitCommit = (await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR }).catch(() => '')).trim()

  const result = {
    benchmark: 'engine',
    date: new Date().toISOString(),
    durationS: round((now() - began) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgres: p.version,
      redis: redisVersion,
      runningAs: p.user ? `root; servers as ${p.user.name} (uid ${p.user.uid})` : os.userInfo().username,
      loadAvgBefore: loadBefore.map((x) => round(x, 2)),
      loadAvgAfter: os.loadavg().map((x) => round(x, 2)),
      gitCommit,
    },
    config: { runs, coldRuns, freshRuns, tunedRuns, breakdownRuns, warmupWasCold, tempRoot: tempRoot() },
    targets,
    pass: targets.every((t) => t.pass),
    figures: {
      postgresWarm: { ready: warmReady, stop: summarize(warm.map((r) => r.stopMs)), phases: warmPhases, ...summarizeUp(warm, 'db') },
      postgresWarmFreshProcess: {
        ready: summarize(fresh.map((r) => r.readyMs)),
        sinceProcessStart: summarize(fresh.map((r) => r.sinceProcessStartMs)),
        stop: summarize(fresh.map((r) => r.stopMs)),
        phases: summarizePhases(fresh.map((r) => phasesOf(r.events, 'db'))),
      },
      postgresCold: {
        ready: summarize(cold.map((r) => r.readyMs)),
        stop: summarize(cold.map((r) => r.stopMs)),
        phases: summarizePhases(cold.map((r) => phasesOf(r.events, 'db'))),
      },
      naive: {
        ready: naiveReady,
        initdb: summarize(naive.map((r) => r.initdbMs)),
        pgCtlStart: summarize(naive.map((r) => r.startMs)),
        firstQuery: summarize(naive.map((r) => r.queryMs)),
        stop: summarize(naive.map((r) => r.stopMs)),
      },
      naiveTuned: {
        ready: tunedReady,
        initdb: summarize(tuned.map((r) => r.initdbMs)),
        pgCtlStart: summarize(tuned.map((r) => r.startMs)),
        firstQuery: summarize(tuned.map((r) => r.queryMs)),
        stop: summarize(tuned.map((r) => r.stopMs)),
      },
      ratios: {
        naiveOverRigWarm: round(naiveReady.median / warmReady.median, 1),
        naiveTunedOverRigWarm: round(tunedReady.median / warmReady.median, 1),
        naiveStopOverRigStop: round(summarize(naive.map((r) => r.stopMs)).median / summarize(warm.map((r) => r.stopMs)).median, 1),
      },
      environment: { ready: envReady, stop: summarize(envRuns.map((r) => r.stopMs)), services: envServices },
    },
    breakdown: bd,
    beforeAfter: abResult(ab, abRuns, tenRuns),
    leftovers: leftovers.length,
  }

  const f = result.figures
  const busy = Math.max(loadBefore[0] ?? 0, os.loadavg()[0] ?? 0) > os.cpus().length
  const wp = f.postgresWarm.phases
  const md = `## Environment engine (\`bench/engine.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${gitCommit}\`; ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, PostgreSQL ${p.version}, Redis ${redisVersion}; load average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after (other work shares this machine).${busy ? ` **The machine was busy (1-minute load above its ${result.machine.cpus} CPUs): figures are inflated by other work; rerun on an idle machine before comparing.**` : ''} ${runs} interleaved runs per series after one warm-up run; total ${result.durationS} s.

| figure | median | p90 | min | max | n | target |
|---|---|---|---|---|---|---|
| \`postgres()\` ready, warm init cache | ${cell(f.postgresWarm.ready)} | ≤ ${TARGETS.postgresWarmMedianMs} ms: **${targets[0]?.pass ? 'pass' : 'MISS'}** |
| \`postgres()\` ready, warm cache, first call in a fresh Node process | ${cell(f.postgresWarmFreshProcess.ready)} | — |
| \`postgres()\` ready, cold (empty init cache: initdb once) | ${cell(f.postgresCold.ready)} | reported |
| naive: \`initdb\` + \`pg_ctl start -w\` + \`select 1\` (baseline) | ${cell(f.naive.ready)} | — |
| naive, tuned: \`initdb --no-sync\` on tmpfs + \`pg_ctl start -w\` | ${cell(f.naiveTuned.ready)} | — |
| Postgres + Redis + 2 \`command()\` (HTTP readiness) ready | ${cell(f.environment.ready)} | ≤ ${TARGETS.environmentMedianMs} ms: **${targets[1]?.pass ? 'pass' : 'MISS'}** |
| stop, \`postgres()\` (\`env.stop()\`) | ${cell(f.postgresWarm.stop)} | — |
| stop, naive (\`pg_ctl stop -m fast -w\`) | ${cell(f.naive.stop)} | — |
| stop, 4-service environment | ${cell(f.environment.stop)} | — |

**Ratio naive / rig warm (medians): ${f.ratios.naiveOverRigWarm}×** (tuned naive: ${f.ratios.naiveTunedOverRigWarm}×). The naive start is initdb ${ms(f.naive.initdb.median)} + \`pg_ctl start -w\` ${ms(f.naive.pgCtlStart.median)} + first query ${ms(f.naive.firstQuery.median)}.

Where a warm \`postgres()\` start goes (medians): before the service starts (validation, stale sweep, watchdog spawn, log files) ${ms(wp.pre.median)}; preparing (free port, cache lookup, a spare data dir moved into place (\`cp -a\` of the cached one when there is none), spawn) ${ms(wp.prepare.median)}; spawn → PostgreSQL logs "ready to accept connections" ${ms(f.postgresWarm.spawnToUp.median)}; that line → rig's first login passed ${ms(f.postgresWarm.upToReady.median)} (connect, backend start, the password stored, a \`select 1\`), after ${wp.failedProbes.median} failed probe attempts.

Each step measured alone (${breakdownRuns} runs, medians): \`cp -a\` of the ${round(bd.dataDir.bytes / 2 ** 20)} MiB / ${bd.dataDir.files}-entry cached data dir into ${bd.tempRoot} ${ms(bd.copyDataDir.median)} (a bare fork+exec: ${ms(bd.spawnTrue.median)}; in-process \`fs.cpSync\` + chown instead: ${ms(bd.cpSyncThenChown.median)}); PostgreSQL spawn → "ready to accept connections" ${ms(bd.serverSpawnToLogReady.median)}, spawn → first \`select 1\` polling every 2 ms ${ms(bd.serverSpawnToQuery.median)}; SIGINT (fast shutdown) → exit ${ms(bd.serverStop.median)}, SIGQUIT (immediate) ${ms(bd.serverStopImmediate.median)}; removing a data dir ${ms(bd.rmDataDir.median)}; \`node -e 0\` ${ms(bd.nodeStartup.median)}; \`postgres --version\` ${ms(bd.postgresVersionExec.median)}; the \`api\` fixture spawn → "listening" ${ms(bd.fixtureSpawnToListening.median)}.

Stopping, each step alone (medians): the \`api\` fixture SIGTERM → exit ${ms(bd.fixtureStop.median)}; Redis \`SHUTDOWN NOSAVE\` → exit ${ms(bd.redisStopNosave.median)} (SIGTERM → exit ${ms(bd.redisStopSigterm.median)}, p90 ${ms(bd.redisStopSigterm.p90)}: a signal waits for Redis's next timer tick, up to 100 ms); PostgreSQL SIGQUIT → exit ${ms(bd.serverStopImmediate.median)}. The 4-service environment stops dependents first (\`web\`, then \`api\`, then \`db\` and \`cache\` together): its floor on this machine is fixture + fixture + the slower of PostgreSQL and Redis, ${ms(2 * bd.fixtureStop.median + Math.max(bd.serverStopImmediate.median, bd.redisStopNosave.median))}.

A warm start in a fresh Node process (what a test runner worker pays once) spends ${ms(f.postgresWarmFreshProcess.phases.prepare.median)} preparing instead of ${ms(wp.prepare.median)} (first \`postgres --version\`, first port reservation, cold code paths) and ${ms(f.postgresWarmFreshProcess.phases.readyWait.median)} from spawn to ready.

Environment, per service (medians, ms since \`startEnvironment\` was called; critical chain db → api → web):

| service | waits for | starts at | prepare | spawn → "up" log line | "up" → ready | failed probes | ready at |
|---|---|---|---|---|---|---|---|
${Object.entries(f.environment.services)
  .map(([k, v]) => `| ${k} | ${{ db: '—', cache: '—', api: 'db, cache', web: 'api' }[k] ?? ''} | ${ms(v.phases.pre.median)} | ${ms(v.phases.prepare.median)} | ${ms(v.spawnToUp.median)} | ${ms(v.upToReady.median)} | ${v.phases.failedProbes.median} | ${ms(v.readyAt.median)} |`)
  .join('\n')}
`
  const abMd = result.beforeAfter ? beforeAfterMd(result.beforeAfter) : ''

  log('')
  log(`postgres() warm ready      ${formatSummary(f.postgresWarm.ready)}  target ≤ ${TARGETS.postgresWarmMedianMs}: ${targets[0]?.pass ? 'pass' : 'MISS'}`)
  log(`postgres() warm, fresh proc ${formatSummary(f.postgresWarmFreshProcess.ready)}`)
  log(`postgres() cold ready      ${formatSummary(f.postgresCold.ready)}`)
  log(`naive initdb+pg_ctl        ${formatSummary(f.naive.ready)}  ratio ${f.ratios.naiveOverRigWarm}×`)
  log(`naive tuned                ${formatSummary(f.naiveTuned.ready)}  ratio ${f.ratios.naiveTunedOverRigWarm}×`)
  log(`environment (4 services)   ${formatSummary(f.environment.ready)}  target ≤ ${TARGETS.environmentMedianMs}: ${targets[1]?.pass ? 'pass' : 'MISS'}`)
  log(`stop: postgres ${formatSummary(f.postgresWarm.stop)}; naive ${formatSummary(f.naive.stop)}; environment ${formatSummary(f.environment.stop)}`)
  if (result.beforeAfter) {
    const { before: b, after: a } = result.beforeAfter
    log(`before/after (${result.beforeAfter.baseCommit} → this), medians:`)
    log(`  postgres() ready    ${ms(b.postgresReady.median)} → ${ms(a.postgresReady.median)}  (target ≤ ${TARGETS.postgresReadyFloorMs} ms)`)
    log(`  postgres() stop     ${ms(b.postgresStop.median)} → ${ms(a.postgresStop.median)}`)
    log(`  4 services ready    ${ms(b.environmentReady.median)} → ${ms(a.environmentReady.median)}`)
    log(`  4 services stop     ${ms(b.environmentStop.median)} → ${ms(a.environmentStop.median)}  (target ≤ ${TARGETS.environmentStopMs} ms)`)
    for (const k of Object.keys(a.serviceStop)) log(`    stop ${k.padEnd(6)}      ${ms(b.serviceStop[k]?.median ?? Number.NaN)} → ${ms(a.serviceStop[k]?.median ?? Number.NaN)}`)
    log(`  10 at once: each ready ${ms(b.tenReadyEach.median)} → ${ms(a.tenReadyEach.median)}, all ready ${ms(b.tenAllReady.median)} → ${ms(a.tenAllReady.median)}, stop all ${ms(b.tenStopAll.median)} → ${ms(a.tenStopAll.median)}`)
  }
  log(`leftover processes: ${leftovers.length}`)

  if (!args['no-write']) {
    fs.mkdirSync(path.dirname(RESULTS_JSON), { recursive: true })
    fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
    writeResultsMd(md)
    if (result.beforeAfter) writeStartStop(result.beforeAfter, `## Start and stop, before / after (\`bench/engine.bench.ts --base\`)\n\nLoad average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after the whole engine run.\n${abMd}`, result.machine)
    log(`wrote ${path.relative(process.cwd(), RESULTS_JSON)} and ${path.relative(process.cwd(), RESULTS_MD)}`)
  } else log(`\n${md}${abMd}`)
  if (leftovers.length > 0) process.exitCode = 3
  else if (args.strict && !result.pass) process.exitCode = 1
}

if (args.child === 'cold' || args.child === 'warm-fresh') await childMain()
else if (args.child === 'ab-fresh') await abFreshChild()
else if (args['ab-only']) await abOnlyMain()
else await main()
