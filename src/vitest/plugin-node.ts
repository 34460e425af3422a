// The node side of the plugin (Vitest's main process): the runner core's run session
// (src/runner/run-session.ts: start or attach, describe services, fixture, per-worker copies)
// handed to workers with `provide`, the seeded sequencer, the reporter, and teardown when
// Vitest closes.
import path from 'node:path'
import type { UserConfig } from 'vite'
import type { Vitest, TestProject } from 'vitest/node'
import { loadConfig } from '../config/load-config.ts'
import { RigError } from '../errors.ts'
import { moduleFile } from '../module-file.ts'
import { resolveOptions, type ResolvedRunnerOptions } from '../runner/options.ts'
import { keptArgs, reproCommand, resolveSeed, type ReplayCommand } from '../runner/order.ts'
import { backgroundDone } from '../env/environment.ts'
import { openRun, type RunSession } from '../runner/run-session.ts'
import { RigReporter } from './reporter.ts'
import { createSequencer } from './sequencer.ts'
import { parseShard, shardFromEnv } from '../shard/shard-spec.ts'
import { resolveSelection, variantSelection, withVariantEnv } from '../variants/select-variants.ts'
import type { RigPluginOptions } from './options.ts'

const SETUP = moduleFile(import.meta.url, './setup.ts')

/** Shared between the two hooks of one plugin instance. */
interface PluginState {
  seed: number
}

type TestConfig = { shard?: unknown; name?: unknown; env?: Partial<Record<string, string>>; projects?: unknown; root?: string }

/** The variant of a Vitest project the plugin made for it (named after it, `RIG_VARIANT` in its env), if it is one. */
function projectVariant(test: { name?: unknown; env?: Partial<Record<string, string>> } | undefined): string | undefined {
  const name = typeof test?.name === 'string' ? test.name : (test?.name as { label?: string } | undefined)?.label
  return name !== undefined && test?.env?.RIG_VARIANT === name ? name : undefined
}

/** `RIG_VARIANT`'s selection of several, for the replay of the whole run. */
let several: string | undefined

/**
 * `rig({ variants })` or `RIG_VARIANT=en,de`: one Vitest project per variant (each gets this
 * plugin again, as a project of one variant). Unknown names stop the run before anything starts.
 */
async function variantProjects(config: UserConfig & { test?: TestConfig }, options: RigPluginOptions): Promise<{ extends: true; test: { name: string; env: Record<string, string> } }[] | undefined> {
  if (projectVariant(config.test)) return undefined
  const selection = variantSelection(options.variants, process.env.RIG_VARIANT)
  if (!selection.several) return undefined
  const source = process.env.RIG_VARIANT ? 'RIG_VARIANT' : 'rig({ variants })'
  if (config.test?.projects !== undefined) throw new RigError('RIG_VARIANTS_WITH_PROJECTS', `${source}: rig runs several variants as one Vitest project each, and this config has its own test.projects; run one variant at a time instead (RIG_VARIANT=NAME npx vitest run)`, { exitCode: 2 })
  const root = path.resolve(config.root ?? process.cwd())
  const names = resolveSelection((await loadConfig(options.config, root, '')).config, selection.names, source)
  // The projects carry their variant; the main process has none of its own. The replay of the
  // whole run names the selection when it came from the env (the option is in the config).
  if (process.env.RIG_VARIANT) several = process.env.RIG_VARIANT
  delete process.env.RIG_VARIANT
  return names.map((v) => ({ extends: true, test: { name: v, env: { RIG_VARIANT: v } } }))
}

/** The `config` hook: setup file, seeded order, file parallelism; one project per variant when several are asked for. */
export async function configHook(config: UserConfig & { test?: TestConfig }, options: RigPluginOptions, state: PluginState): Promise<UserConfig> {
  const projects = await variantProjects(config, options)
  const o = resolveOptions(options)
  state.seed = resolveSeed(o.order.seed)
  // Each project loads this config again, with a plugin of its own: one seed for all of them.
  if (projects && !process.env.RIG_SEED) process.env.RIG_SEED = String(state.seed)
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
      ...(projects ? { projects } : {}),
    },
  } as UserConfig
}

/** Per Vitest instance, its run session per variant (`''`: the one of a run without several). */
const sessions = new WeakMap<Vitest, Map<string, Promise<RunSession>>>()
/** Variant sessions open one after the other: each sets its variant's env while its services start. */
let opening: Promise<unknown> = Promise.resolve()

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
export async function configureHook(ctx: { vitest: Vitest; project: TestProject }, options: RigPluginOptions, state: PluginState): Promise<void> {
  const { vitest, project } = ctx
  const variant = projectVariant({ name: project.name, env: project.config.env as Partial<Record<string, string>> | undefined })
  const o = variant ? variantOptions(resolveOptions(options), variant) : resolveOptions(options)
  const mine = sessions.get(vitest) ?? new Map<string, Promise<RunSession>>()
  sessions.set(vitest, mine)
  const firstOfRun = mine.size === 0
  let p = mine.get(variant ?? '')
  const first = !p
  if (!p) {
    const start = { root: vitest.config.root, workers: Number(vitest.config.maxWorkers) || 1, seed: state.seed, guardHost: true }
    const v = variant
    p = v ? opening.then(() => withVariantEnv(v, () => openRun(o, { ...start, variant: v }))) : openRun(o, start)
    opening = p.catch(() => {})
    mine.set(variant ?? '', p)
  }
  // A run that could not open (a fixture that fails to load, a service that does not start) has
  // stopped what it started: Vitest exits right after, so its dirs are removed before that.
  const session = await p.catch(async (err: unknown) => {
    await backgroundDone()
    throw err
  })
  // A variant's tests see its name and env (variant(), process.env) as under RIG_VARIANT.
  project.provide('rig', variant ? { ...session.provided, vars: { ...session.loaded.config.variants?.[variant]?.env, ...session.provided.vars, RIG_VARIANT: variant } } : session.provided)
  if (!first) return
  // A variant's failures replay in that variant; the run's order, with every variant it ran.
  const plain = vitestReplay()
  const withVariant = (v: string | undefined): ReplayCommand => (v ? { ...plain, command: [`RIG_VARIANT=${v}`, ...plain.command] } : plain)
  const replay = withVariant(variant)
  if (firstOfRun) process.stderr.write(`rig: seed ${state.seed} (replay this order: ${reproCommand(state.seed, [], vitest.config.root, withVariant(variant ? several : undefined))})\n`)
  const shard = vitest.config.shard
  const reporter = new RigReporter({
    seed: state.seed,
    root: vitest.config.root,
    options: o,
    session: { timeline: session.timeline, startMs: session.startMs, attached: session.attached },
    replay,
    errorPatterns: Object.fromEntries(Object.values(session.provided.services).map((s) => [s.name, s.errorPatterns])),
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
    ...(variant ? { variant, project: variant } : {}),
  })
  ;(vitest.config.reporters as unknown[]).push(reporter)
  vitest.onClose(() => session.close().then(backgroundDone))
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

/** A variant's options: its report in `<report dir>/<variant>` (`rig-report/de`). */
function variantOptions(o: ResolvedRunnerOptions, variant: string): ResolvedRunnerOptions {
  return { ...o, report: { ...o.report, dir: path.join(o.report.dir, variant) } }
}
