// The node side of the plugin (Vitest's main process): start the environment or attach to the
// one `rig up` left running, hand workers their services, order files, report, and stop
// everything when Vitest closes.
import path from 'node:path'
import type { UserConfig } from 'vite'
import type { Vitest, TestProject } from 'vitest/node'
import { loadConfig, type LoadedConfig } from '../config/load-config.ts'
import { serveControl } from '../env/control-server.ts'
import { startEnvironment, type Environment } from '../env/environment.ts'
import { environmentState, ownerAlive, readState, type EnvState } from '../env/state.ts'
import { criticalChain, formatChain } from '../env/timeline.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'
import type { TimelineEntry } from '../report/model.ts'
import { resolveOptions, type RigPluginOptions, type ResolvedPluginOptions } from './options.ts'
import { resolveSeed } from './order.ts'
import type { ProvidedService, RigProvided } from './provided.ts'
import { RigReporter } from './reporter.ts'
import { createSequencer } from './sequencer.ts'
import { prepareWorkerDatabases, type WorkerDatabases } from './worker-databases.ts'
import type { StoreAdapter } from '../guard/adapter.ts'
import { fixtureNamed, loadFixture } from '../guard/fixtures.ts'
import { createGuard, type Guard } from '../guard/guard.ts'
import { guardKind, storeKindOf } from '../guard/guard-kinds.ts'
import { assertMayClean, mayClean } from '../guard/safety.ts'
import { adapterFor } from './guard-session.ts'
import { moduleFile } from '../module-file.ts'
import { maskPassword } from '../services/credentials.ts'

const SETUP = moduleFile(import.meta.url, './setup.ts')

/** Shared between the two hooks of one plugin instance. */
interface PluginState {
  seed: number
}

/** The `config` hook: setup file, seeded order, file parallelism. */
export function configHook(config: UserConfig & { test?: { shard?: unknown } }, options: RigPluginOptions, state: PluginState): UserConfig {
  const o = resolveOptions(options)
  state.seed = resolveSeed(o.order.seed)
  return {
    test: {
      setupFiles: [SETUP],
      sequence: { sequencer: createSequencer(state.seed, o.order.shuffle), shuffle: { files: false, tests: o.order.shuffle }, seed: state.seed },
      // One environment shared by all files: run them one at a time so each leak and each
      // log error is attributed to the test that caused it.
      ...(o.isolation === 'shared' ? { fileParallelism: false } : {}),
    },
  } as UserConfig
}

/** A running environment as the plugin sees it: started here, or attached. */
interface Session {
  loaded: LoadedConfig
  env: Environment | undefined
  attached: EnvState | undefined
  provided: RigProvided
  timeline: TimelineEntry[]
  startMs: number
  workerDbs: WorkerDatabases | undefined
  /** The guard that loaded the run's fixture (`rig({ fixture })`). */
  fixtureGuard: Guard | undefined
}

const sessions = new WeakMap<Vitest, Promise<Session>>()

function patternsOf(def: ServiceDefinition | undefined, extra: (string | RegExp)[] = []): { source: string; flags: string }[] {
  const all = [...(def?.kind.errorPatterns ?? []), ...extra.map((p) => (typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p))]
  return all.map((r) => ({ source: r.source, flags: r.flags.replace('g', '') }))
}

async function open(vitest: Vitest, o: ResolvedPluginOptions, seed: number): Promise<Session> {
  const loaded = await loadConfig(o.config, vitest.config.root)
  const log = (line: string): void => void process.stderr.write(`rig: ${line}\n`)
  // A misspelt fixture fails before anything starts.
  if (o.fixture) fixtureNamed(loaded.config.fixtures, o.fixture)
  let env: Environment | undefined
  let attached: EnvState | undefined
  const existing = o.attach ? readState(loaded.root) : undefined
  if (existing && ownerAlive(existing)) {
    attached = existing
    log(`using the environment started by rig up (pid ${existing.pid})`)
  } else {
    env = await startEnvironment(loaded.config, {
      root: loaded.root,
      logsDir: loaded.config.logsDir ?? path.join('.rig', 'logs'),
      onEvent: (e) => {
        if (e.type === 'notice') log(`${e.service}: ${e.message}`)
      },
    })
    log(`environment ready in ${Math.round(env.startMs)} ms (${formatChain(criticalChain(Object.fromEntries(Object.entries(env.services).map(([k, s]) => [k, s.timeline]))))})`)
  }
  try {
    return await describeSession(vitest, o, seed, loaded, env, attached, log)
  } catch (err) {
    // Nothing may outlive a run that could not begin.
    await env?.stop().catch(() => {})
    throw err
  }
}

/** The services as workers see them, the run's fixture and per-worker copies. */
async function describeSession(vitest: Vitest, o: ResolvedPluginOptions, seed: number, loaded: LoadedConfig, env: Environment | undefined, attached: EnvState | undefined, log: (line: string) => void): Promise<Session> {
  const services: Record<string, ProvidedService> = {}
  const timeline: TimelineEntry[] = []
  // external() databases are guarded too, read-only: leaks reported, never cleaned without allowCleaning.
  const guardedNames = (name: string, kind: string, url: string): boolean => o.guard.mode !== 'off' && guardKind(storeKindOf(kind, url)) !== undefined && (o.guard.services ? o.guard.services.includes(name) : true)
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
    services[name] = { name, kind: s.kind, url: s.url, host: s.host, port: s.port, pid: s.pid, env: s.env, logFile: s.logFile, errorPatterns, guarded: guardedNames(name, s.kind, s.url), startedByRig: s.provider !== 'external' }
    // The report is a file others may read: it shows no password.
    timeline.push({ service: name, kind: s.kind, provider: s.provider, url: maskPassword(s.url), ...(view.timeline[name] ?? { dependsOn: [] }) })
  }
  const controlSocket = view.controlSocket
  const fixtureGuard = o.fixture ? await loadRunFixture(o.fixture, loaded, services, o, log, Boolean(attached)) : undefined
  let workerDbs: WorkerDatabases | undefined
  if (o.isolation === 'database') {
    const workers = Math.max(1, Number(vitest.config.maxWorkers) || 1)
    workerDbs = await prepareWorkerDatabases(services, workers, seed)
    // A store shared by parallel workers cannot attribute a leak to one test: only the
    // cloned ones are guarded.
    for (const s of Object.values(services)) {
      if (s.guarded && !s.workerUrls) {
        s.guarded = false
        log(`${s.name}: not guarded under isolation 'database' (no per-worker copy for ${s.kind})`)
      }
    }
  }
  const vars: Record<string, string> = Object.assign({}, ...Object.values(services).map((s) => s.env))
  const provided: RigProvided = {
    services,
    vars,
    controlSocket,
    seed,
    configFile: loaded.file,
    fixture: o.fixture,
    guard: { mode: o.guard.mode, strategy: o.guard.strategy, exclude: o.guard.exclude, allowCleaning: o.guard.allowCleaning },
    logs: { failOnError: o.logs.failOnError },
  }
  return { loaded, env, attached, provided, timeline, startMs: env?.startMs ?? attached?.startMs ?? 0, workerDbs, fixtureGuard }
}

/**
 * Loads the run's fixture into every guarded store, before the workers (and their copies)
 * exist. On `rig up`'s environment the returned guard holds a snapshot of the data before, to
 * give it back at the end; an environment started for this run is simply stopped.
 */
async function loadRunFixture(name: string, loaded: LoadedConfig, services: Record<string, ProvidedService>, o: ResolvedPluginOptions, log: (line: string) => void, attached: boolean): Promise<Guard | undefined> {
  const stores: StoreAdapter[] = []
  for (const s of Object.values(services)) {
    const a = guardKind(storeKindOf(s.kind, s.url)) ? await adapterFor(s, s.url, o.guard.exclude) : undefined
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

/** The `configureVitest` hook: environment, provide, reporter, teardown. */
export async function configureHook(ctx: { vitest: Vitest; project: TestProject }, options: RigPluginOptions, state: PluginState): Promise<void> {
  const o = resolveOptions(options)
  const { vitest, project } = ctx
  let p = sessions.get(vitest)
  const first = !p
  if (!p) {
    p = open(vitest, o, state.seed)
    sessions.set(vitest, p)
  }
  const session = await p
  project.provide('rig', session.provided)
  if (!first) return
  process.stderr.write(`rig: seed ${state.seed} (replay this order: RIG_SEED=${state.seed} npx vitest run)\n`)
  const reporter = new RigReporter({ seed: state.seed, root: vitest.config.root, options: o, session: { timeline: session.timeline, startMs: session.startMs, attached: Boolean(session.attached) } })
  ;(vitest.config.reporters as unknown[]).push(reporter)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await session.workerDbs?.drop().catch(() => {})
      // rig up's environment outlives the run: give it back its data as it was before the fixture.
      if (session.attached) await session.fixtureGuard?.resetFixture().catch((err: unknown) => process.stderr.write(`rig: could not put back the data held before fixture "${o.fixture}": ${(err as Error).message}\n`))
      await session.fixtureGuard?.close()
      await session.env?.stop()
    })())
  vitest.onClose(close)
  vitest.onCancel(() => void close())
  // Vitest exits right after Ctrl-C without closing: write what we have now (the watchdog
  // stops the services once this process is gone).
  const onSignal = (): void => reporter.finish(true)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  vitest.onClose(() => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  })
}
