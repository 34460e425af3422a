// The node side of the plugin (Vitest's main process): the runner core's run session
// (src/runner/run-session.ts: start or attach, describe services, fixture, per-worker copies)
// handed to workers with `provide`, the seeded sequencer, the reporter, and teardown when
// Vitest closes.
import type { UserConfig } from 'vite'
import type { Vitest, TestProject } from 'vitest/node'
import { moduleFile } from '../module-file.ts'
import { resolveOptions, type RigRunnerOptions } from '../runner/options.ts'
import { keptArgs, reproCommand, resolveSeed, type ReplayCommand } from '../runner/order.ts'
import { dirsRemoved } from '../env/environment.ts'
import { openRun, type RunSession } from '../runner/run-session.ts'
import { RigReporter } from './reporter.ts'
import { createSequencer } from './sequencer.ts'
import { parseShard, shardFromEnv } from '../shard/shard-spec.ts'

const SETUP = moduleFile(import.meta.url, './setup.ts')

/** Shared between the two hooks of one plugin instance. */
interface PluginState {
  seed: number
}

/** The `config` hook: setup file, seeded order, file parallelism. */
export function configHook(config: UserConfig & { test?: { shard?: unknown } }, options: RigRunnerOptions, state: PluginState): UserConfig {
  const o = resolveOptions(options)
  state.seed = resolveSeed(o.order.seed)
  // rig's setup file goes first: its per-test hook is then the outermost one (see setup.ts).
  const test = ((config as { test?: { setupFiles?: string | string[] } }).test ??= {})
  test.setupFiles = [SETUP, ...[test.setupFiles ?? []].flat().filter((f) => f !== SETUP)]
  // Vitest's own --shard wins; else the option, RIG_SHARD or the CI's variables.
  const shard = config.test?.shard || shardArg() !== undefined ? undefined : typeof o.shard === 'string' ? parseShard(o.shard, 'rig({ shard })') : o.shard === false ? undefined : shardFromEnv()
  return {
    test: {
      sequence: { sequencer: createSequencer(state.seed, o.order.shuffle, { ...(o.timings ? { timings: o.timings } : {}), reportDir: o.report.dir }), shuffle: { files: false, tests: o.order.shuffle }, seed: state.seed },
      ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
      // One environment shared by all files: run them one at a time so each leak and each
      // log error is attributed to the test that caused it.
      ...(o.isolation === 'shared' ? { fileParallelism: false } : {}),
    },
  } as UserConfig
}

const sessions = new WeakMap<Vitest, Promise<RunSession>>()

/** Options of Vitest's command line that choose what runs and with which configuration: replays repeat them. */
const KEPT = ['--config', '-c', '--root', '-r', '--dir', '--project', '--mode']

/** How Vitest replays files and one test, with the options of this run's command line (`argv`) that select its config and project. */
export function vitestReplay(argv: readonly string[] = process.argv.slice(2)): ReplayCommand {
  return { command: ['npx', 'vitest', 'run', ...keptArgs(argv, KEPT)], testFlag: '-t', shardFlag: '--shard' }
}

/** The shard this run was started with (`--shard=1/3`). */
function shardArg(): string | undefined {
  const s = process.argv.find((a) => a.startsWith('--shard'))
  return s ? (s.split('=')[1] ?? '') : undefined
}

/** The `configureVitest` hook: environment, provide, reporter, teardown. */
export async function configureHook(ctx: { vitest: Vitest; project: TestProject }, options: RigRunnerOptions, state: PluginState): Promise<void> {
  const o = resolveOptions(options)
  const { vitest, project } = ctx
  let p = sessions.get(vitest)
  const first = !p
  if (!p) {
    p = openRun(o, { root: vitest.config.root, workers: Number(vitest.config.maxWorkers) || 1, seed: state.seed, guardHost: true })
    sessions.set(vitest, p)
  }
  // A run that could not open (a fixture that fails to load, a service that does not start) has
  // stopped what it started: Vitest exits right after, so its dirs are removed before that.
  const session = await p.catch(async (err: unknown) => {
    await dirsRemoved()
    throw err
  })
  project.provide('rig', session.provided)
  if (!first) return
  const replay = vitestReplay()
  process.stderr.write(`rig: seed ${state.seed} (replay this order: ${reproCommand(state.seed, [], vitest.config.root, replay)})\n`)
  const shard = vitest.config.shard
  const reporter = new RigReporter({
    seed: state.seed,
    root: vitest.config.root,
    options: o,
    session: { timeline: session.timeline, startMs: session.startMs, attached: session.attached },
    replay,
    errorPatterns: Object.fromEntries(Object.values(session.provided.services).map((s) => [s.name, s.errorPatterns])),
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
  })
  ;(vitest.config.reporters as unknown[]).push(reporter)
  vitest.onClose(() => session.close().then(dirsRemoved))
  vitest.onCancel(() => void session.close())
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
