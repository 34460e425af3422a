// Node side of the core (the runner's main process): start the environment or attach to the
// one `rig up` left running, describe its services for the workers (`RigProvided`), load the
// run's fixture, prepare per-worker copies, and stop or give back everything at the end.
import path from 'node:path'
import { loadConfig, type LoadedConfig } from '../config/load-config.ts'
import { serveControl } from '../env/control-server.ts'
import { startEnvironment, type Environment } from '../env/environment.ts'
import { attachable, environmentState, readStateQuietly, type EnvState } from '../env/state.ts'
import { criticalChain, formatChain } from '../env/timeline.ts'
import type { StoreAdapter } from '../guard/adapter.ts'
import { fixtureNamed, loadFixture } from '../guard/fixtures.ts'
import { createGuard, type Guard } from '../guard/guard.ts'
import { isGuardKind, storeKindOf } from '../guard/guard-kind-list.ts'
import { assertMayClean, mayClean } from '../guard/safety.ts'
import type { TimelineEntry } from '../report/model.ts'
import { maskPassword } from '../services/credentials.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'
import { RigError } from '../errors.ts'
import { adapterFor } from './guard-session.ts'
import { serveGuard, type GuardHost } from './guard-host.ts'
import { resolveLogAllow, toSource, type LogAllow } from './log-patterns.ts'
import type { ResolvedRunnerOptions } from './options.ts'
import type { EnvironmentStatus, ProvidedService, RigProvided } from './provided.ts'
import { prepareWorkerDatabases, type WorkerDatabases } from './worker-databases.ts'
import { planStacks, startWorkerStacks, type StackPlan, type WorkerStacks } from './worker-stacks.ts'

/** Where and how a run begins, as the runner knows it. */
export interface RunStart {
  /** The runner's root: rig.config.ts is looked for from here upwards (unless `options.config`). */
  root: string
  /** How many workers may run test files at once (the number of copies under `isolation: 'database'` and `'stack'`). */
  workers: number
  seed: number
  /** Where notes go (`rig: …` on stderr by default). */
  log?: (line: string) => void
  /**
   * Hold the guard in this process for the whole run (src/runner/guard-host.ts): workers ask
   * it to check and restore after each test instead of opening the guard in every test file.
   * For a runner whose main process stays up, serving requests, while its workers run (every
   * adapter's: Vitest's main process, Jest's, node:test's and Playwright's runner process).
   * Without it, when `RIG_GUARD_HOST=off`, or when the host cannot start, each test file opens
   * the guard itself.
   */
  guardHost?: boolean
  /**
   * The variant of this run when one runner process runs several (the Vitest plugin's
   * `variants`): applied instead of `RIG_VARIANT`, its service logs in `<logsDir>/<variant>`.
   */
  variant?: string
}

/** A running environment as a run sees it: started for it, or attached. */
export interface RunSession {
  loaded: LoadedConfig
  /** What every worker needs; serialisable, hand it over with the runner's own channel. */
  provided: RigProvided
  /** Started by `rig up`, not by this run. */
  attached: boolean
  /** Per-service start timeline and the environment's start time, for the report. */
  timeline: TimelineEntry[]
  startMs: number
  /** Drops per-worker copies, gives `rig up`'s environment back its data, stops what this run started. Once. */
  close(): Promise<void>
}

const defaultLog = (line: string): void => void process.stderr.write(`rig: ${line}\n`)

function patternsOf(def: ServiceDefinition | undefined, extra: (string | RegExp)[] = []): { source: string; flags: string }[] {
  return [...(def?.kind.errorPatterns ?? []), ...extra].map(toSource)
}

/** Starts or attaches to the environment and describes it for the workers. Nothing is left running when it throws. */
export async function openRun(o: ResolvedRunnerOptions, start: RunStart): Promise<RunSession> {
  const log = start.log ?? defaultLog
  // A misspelt RIG_GUARD_HOST fails before anything starts.
  if (start.guardHost && !guardHostWanted()) start = { ...start, guardHost: false }
  const loaded = await loadConfig(o.config, start.root, start.variant ?? process.env.RIG_VARIANT)
  // A misspelt fixture fails before anything starts.
  if (o.fixture) fixtureNamed(loaded.config.fixtures, o.fixture)
  // So does a misspelt service or file in logs.allow / logs.allowIn.
  const logAllow = resolveLogAllow(o.logs, Object.keys(loaded.config.services), start.root)
  // A suite that cannot be copied per worker says so before anything starts.
  const stackPlan = o.isolation === 'stack' ? planStacks(loaded.config) : undefined
  const t0 = performance.now()
  let env: Environment | undefined
  let attached: EnvState | undefined
  // `rig up`'s environment, or that of the `rig run` that started this run; never another `rig run`'s.
  const existing = o.attach ? readStateQuietly(loaded.root) : undefined
  // …and only when it runs this run's variant: another variant's services are not this run's.
  const otherVariant = existing && attachable(existing) && (existing.variant ?? '') !== (loaded.variant ?? '')
  if (otherVariant) log(`the environment started by rig up (pid ${existing.pid}) runs ${existing.variant ? `variant "${existing.variant}"` : 'no variant'}, this run ${loaded.variant ? `variant "${loaded.variant}"` : 'none'}: starting this run's own`)
  if (existing && attachable(existing) && !otherVariant) {
    attached = existing
    log(`using the environment started by rig up (pid ${existing.pid})`)
  } else {
    env = await startEnvironment(loaded.config, {
      root: loaded.root,
      logsDir: path.join(loaded.config.logsDir ?? path.join('.rig', 'logs'), start.variant ?? ''),
      onEvent: (e) => {
        if (e.type === 'notice') log(`${e.service}: ${e.message}`)
      },
    })
    log(`environment ready in ${Math.round(env.startMs)} ms (${formatChain(criticalChain(Object.fromEntries(Object.entries(env.services).map(([k, s]) => [k, s.timeline]))))})`)
  }
  try {
    return await describeRun(o, start, log, loaded, env, attached, logAllow, { plan: stackPlan, t0 })
  } catch (err) {
    // Nothing may outlive a run that could not begin.
    await env?.stop().catch(() => {})
    throw err
  }
}

/** The services as workers see them, the run's fixture and per-worker copies. */
async function describeRun(o: ResolvedRunnerOptions, start: RunStart, log: (line: string) => void, loaded: LoadedConfig, env: Environment | undefined, attached: EnvState | undefined, logAllow: LogAllow, stack: { plan: StackPlan | undefined; t0: number }): Promise<RunSession> {
  const services: Record<string, ProvidedService> = {}
  const timeline: TimelineEntry[] = []
  // external() databases are guarded too, read-only: leaks reported, never cleaned without allowCleaning.
  const guardedNames = (name: string, kind: string, url: string): boolean => o.guard.mode !== 'off' && isGuardKind(storeKindOf(kind, url)) && (o.guard.services ? o.guard.services.includes(name) : true)
  // One view of the services whether they were started here or by `rig up`.
  let view: EnvState
  if (env) {
    const socket = path.join(env.dir, 'control.sock')
    await serveControl(env, socket, () => {})
    view = environmentState(env, loaded.file, false, socket)
  } else {
    view = attached as EnvState
  }
  for (const [name, s] of Object.entries(view.services)) {
    const def = loaded.config.services[name] as ServiceDefinition | undefined
    const errorPatterns = o.logs.ignore.includes(name) ? [] : patternsOf(def, o.logs.patterns[name])
    // A one-shot that already completed has no process to watch: workers would otherwise find
    // its pid gone and ask the environment about it in every test file.
    services[name] = { name, kind: s.kind, url: s.url, host: s.host, port: s.port, pid: s.status === 'completed' ? null : s.pid, env: s.env, logFile: s.logFile, errorPatterns, guarded: guardedNames(name, s.kind, s.url), startedByRig: s.provider !== 'external', ...(s.provider === 'embedded' ? { embedded: true as const } : {}), ...(s.proxy ? { proxy: { host: s.proxy.host, port: s.proxy.port } } : {}) }
    // The report is a file others may read: it shows no password.
    timeline.push({ service: name, kind: s.kind, provider: s.provider, url: maskPassword(s.url), ...(view.timeline[name] ?? { dependsOn: [] }), ...(s.logFile ? { logFile: path.relative(start.root, s.logFile) } : {}) })
  }
  // What keepOnFailure kept in rig up's environment during the last run goes now (before any copy is made).
  if (attached && o.guard.mode !== 'off') await dropKept(services, o, log)
  const fixtureGuard = o.fixture ? await loadRunFixture(o.fixture, loaded, services, o, log, Boolean(attached)) : undefined
  // Before the copies: they carry what the baseline put in the store (shadow copies, triggers).
  const baselines = o.guard.mode !== 'off' ? await shareBaseline(services, o, log) : undefined
  let workerDbs: WorkerDatabases | undefined
  let stacks: WorkerStacks | undefined
  if (o.isolation !== 'shared') {
    const workers = Math.max(1, start.workers)
    workerDbs = await prepareWorkerDatabases(services, workers, start.seed)
    // A store shared by parallel workers cannot attribute a leak to one test: only the
    // cloned ones are guarded.
    for (const s of Object.values(services)) {
      if (s.guarded && !s.workerUrls) {
        s.guarded = false
        log(`${s.name}: not guarded under isolation '${o.isolation}' (no per-worker copy for ${s.kind})`)
      }
    }
    if (stack.plan) {
      if (stack.plan.copied.length === 0) log(`isolation 'stack': no command() service to copy per worker; each worker gets its own database copies only`)
      const t = performance.now()
      try {
        stacks = await startWorkerStacks(loaded.config, stack.plan, services, workers, { root: loaded.root, logsDir: path.resolve(loaded.root, loaded.config.logsDir ?? path.join('.rig', 'logs')) })
      } catch (err) {
        await workerDbs.drop().catch(() => {})
        throw err
      }
      if (stack.plan.copied.length > 0) log(`${workers} worker cop${workers === 1 ? 'y' : 'ies'} of ${stack.plan.copied.join(', ')} ready in ${Math.round(performance.now() - t)} ms`)
      timeline.push(...stacks.timeline(stack.t0, start.root))
    }
  }
  const vars: Record<string, string> = Object.assign({}, ...Object.values(services).map((s) => s.env))
  const provided: RigProvided = {
    services,
    vars,
    controlSocket: view.controlSocket,
    seed: start.seed,
    configFile: loaded.file,
    fixture: o.fixture,
    guard: {
      mode: o.guard.mode,
      strategy: o.guard.strategy,
      exclude: o.guard.exclude,
      allowCleaning: o.guard.allowCleaning,
      keepOnFailure: o.guard.keepOnFailure,
      keptOutlivesRun: Boolean(attached) && o.isolation === 'shared',
      settle: o.guard.settle,
      ...(baselines ? { baselines } : {}),
    },
    logs: { failOnError: o.logs.failOnError, allow: logAllow },
  }
  let guardHost: GuardHost | undefined
  if (start.guardHost && o.guard.mode !== 'off' && Object.values(services).some((s) => s.guarded)) {
    try {
      // With the environment in this process, a worker's check request is also its status request.
      guardHost = await serveGuard(provided, env ? () => env.toJSON() as EnvironmentStatus : undefined)
      provided.guard.host = guardHost.socket
      if (env) provided.guard.hostStatus = true
    } catch (err) {
      // The per-file path still works: each test file opens the guard itself (adopting the run's baseline).
      log(`the guard host could not start (${(err as Error).message}): each test file opens the guard itself`)
    }
  }
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // The guard's sessions first: they hold connections to the stores and their copies.
      await guardHost?.close()
      // The copies next: they hold connections to the clones.
      await stacks?.stop()
      await workerDbs?.drop().catch(() => {})
      // rig up's environment outlives the run: give it back its data as it was before the fixture.
      if (attached) await fixtureGuard?.resetFixture().catch((err: unknown) => log(`could not put back the data held before fixture "${o.fixture}": ${(err as Error).message}`))
      await fixtureGuard?.close()
      await env?.stop()
    })())
  return { loaded, provided, attached: Boolean(attached), timeline, startMs: env?.startMs ?? attached?.startMs ?? 0, close }
}

/**
 * Whether the runner's main process may hold the guard (`RIG_GUARD_HOST`: unset or `on`; `off`
 * for workers that cannot reach a Unix socket of the main process, e.g. run in another
 * container: each test file then opens the guard itself).
 */
export function guardHostWanted(): boolean {
  const v = (process.env.RIG_GUARD_HOST ?? '').trim().toLowerCase()
  if (v === '' || v === 'on' || v === '1' || v === 'true') return true
  if (v === 'off' || v === '0' || v === 'false') return false
  throw new RigError('RIG_GUARD_HOST_BAD_VALUE', `RIG_GUARD_HOST=${JSON.stringify(process.env.RIG_GUARD_HOST)} is neither on nor off: unset it (the runner's main process holds the guard for the run) or set RIG_GUARD_HOST=off (each test file opens the guard itself)`, { exitCode: 2 })
}

/**
 * The guard's baseline of every guarded store that can hand one to the workers, taken once for
 * the run instead of once per test file in every worker. A store that cannot share one, or a
 * baseline that fails here, is left to the workers (each takes its own, as without this).
 */
async function shareBaseline(services: Record<string, ProvidedService>, o: ResolvedRunnerOptions, log: (line: string) => void): Promise<Record<string, unknown> | undefined> {
  const stores: StoreAdapter[] = []
  for (const s of Object.values(services)) {
    const a = s.guarded ? await adapterFor(s, s.url, o.guard.exclude, o.guard.settle?.queues[s.name]) : undefined
    if (a?.exportBaseline) stores.push(a)
    else await a?.close()
  }
  if (stores.length === 0) return undefined
  const guard = createGuard({ stores, mode: o.guard.mode, allowClean: o.guard.allowCleaning })
  try {
    await guard.baseline()
    const shared = await guard.exportBaseline()
    return Object.keys(shared).length > 0 ? shared : undefined
  } catch (err) {
    log(`the guard's baseline was not taken once for the run (each test file takes its own): ${(err as Error).message}`)
    return undefined
  } finally {
    // Copies of the database may be made next: they need it without other sessions.
    await guard.close()
  }
}

/** Drops the data `keepOnFailure` kept in every guarded store rig may clean. */
async function dropKept(services: Record<string, ProvidedService>, o: ResolvedRunnerOptions, log: (line: string) => void): Promise<void> {
  for (const s of Object.values(services)) {
    const a = s.guarded ? await adapterFor(s, s.url, o.guard.exclude) : undefined
    if (!a?.dropKept || !mayClean(a.info, { allowClean: o.guard.allowCleaning })) {
      await a?.close()
      continue
    }
    try {
      const n = await a.dropKept()
      if (n > 0) log(`${s.name}: dropped what the last run kept of ${n} failed test${n === 1 ? '' : 's'}`)
    } catch (err) {
      log(`${s.name}: could not drop what the last run kept: ${(err as Error).message}`)
    } finally {
      await a.close()
    }
  }
}

/**
 * Loads the run's fixture into every guarded store, before the workers (and their copies)
 * exist. On `rig up`'s environment the returned guard holds a snapshot of the data before, to
 * give it back at the end; an environment started for this run is simply stopped.
 */
async function loadRunFixture(name: string, loaded: LoadedConfig, services: Record<string, ProvidedService>, o: ResolvedRunnerOptions, log: (line: string) => void, attached: boolean): Promise<Guard | undefined> {
  const stores: StoreAdapter[] = []
  for (const s of Object.values(services)) {
    const a = isGuardKind(storeKindOf(s.kind, s.url)) ? await adapterFor(s, s.url, o.guard.exclude) : undefined
    // A fixture writes: only into stores rig started, or that allowCleaning names.
    if (a && mayClean(a.info, { allowClean: o.guard.allowCleaning })) stores.push(a)
  }
  const fixtures = loaded.config.fixtures ?? {}
  const t0 = performance.now()
  let guard: Guard | undefined
  try {
    if (attached) {
      guard = createGuard({ stores, mode: 'clean', allowClean: o.guard.allowCleaning, fixtures, root: loaded.root })
      await guard.useFixture(name)
    } else {
      for (const s of stores) assertMayClean(s.info, { allowClean: o.guard.allowCleaning })
      await loadFixture(name, fixtureNamed(fixtures, name), stores, loaded.root)
    }
  } finally {
    // Copies of the database are made next: they need it without other sessions.
    for (const s of stores) await s.close()
  }
  log(`fixture "${name}" loaded in ${Math.round(performance.now() - t0)} ms`)
  return guard
}
