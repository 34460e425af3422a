// `isolation: 'stack'`: each worker gets its own copies of the long-running `command()`
// services (the app's own processes), each on a port of its own, started with the env of that
// worker's database clones, Redis database and vhost, so tests that go through the app run in
// parallel and every leak or logged error belongs to one worker's test.
//
// The copies start at run start, all workers in parallel, right after the clones they need:
// a copy that cannot start fails the run before any test (with the start's evidence), the
// copies cost their start once per run and never a test's time, and, like the clones, there
// is one per worker slot the runner may use. Each worker's copies are one small environment
// of their own (its own watchdog: never left behind, even when the runner is killed), whose
// dependencies are the worker's clones handed in as `external()` addresses.
import path from 'node:path'
import type { RigConfig } from '../config/define-config.ts'
import { serveControl } from '../env/control-server.ts'
import { startEnvironment, varName, type Environment } from '../env/environment.ts'
import { normaliseDependsOn } from '../env/graph.ts'
import { ConfigError, describeError, RigError } from '../errors.ts'
import type { TimelineEntry } from '../report/model.ts'
import { maskPassword } from '../services/credentials.ts'
import { external } from '../services/external/index.ts'
import type { DependencyCondition, ServiceDefinition } from '../services/service-kind.ts'
import type { ProvidedService } from './provided.ts'
import { workerEnv, workerUrl } from './worker.ts'

/** Which services each worker gets a copy of, and what those copies depend on. */
export interface StackPlan {
  /** The `command()` services copied per worker, in the config's order. */
  copied: string[]
  /** Services the copies depend on that are not copied (stores, `external()`): the worker's clone of each, or the shared one. */
  given: string[]
  /** Each copy's dependencies: other copies and given services (one-shot tasks left out: the clones are made after they completed). */
  dependsOn: Record<string, Record<string, DependencyCondition>>
}

const isCommand = (def: ServiceDefinition | undefined): boolean => def?.kind.name === 'command'
const isOneShot = (def: ServiceDefinition | undefined): boolean => isCommand(def) && (def?.options as { oneShot?: boolean }).oneShot === true

/**
 * Which services to copy: every `command()` that keeps running. Throws a `ConfigError` for one
 * that cannot be copied: a fixed port (every copy would need it), a proxy in front of it or of
 * a service it depends on (the copies connect past it, so a test's faults would not reach them).
 */
export function planStacks(config: RigConfig): StackPlan {
  const defs = config.services as Record<string, ServiceDefinition>
  const copied = Object.keys(defs).filter((n) => isCommand(defs[n]) && !isOneShot(defs[n]))
  const given = new Set<string>()
  const dependsOn: StackPlan['dependsOn'] = {}
  for (const name of copied) {
    const o = defs[name]!.options
    if (o.port !== undefined) {
      throw new ConfigError(
        'RIG_STACK_FIXED_PORT',
        `service "${name}" listens on a fixed port (${o.port}): under isolation 'stack' every worker runs its own copy of it, and they cannot all listen on ${o.port}. Remove \`port\` and pass {port} to the command (rig picks a free port per copy and hands it to tests as RIG_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL), or keep isolation 'shared' or 'database' for this suite`,
      )
    }
    if (o.host !== undefined) {
      throw new ConfigError(
        'RIG_STACK_HOST',
        `service "${name}" runs on host "${o.host}": under isolation 'stack' every worker runs its own copy of it on this machine's network, where that host's partitions and outages would not reach them. Run the tests of hosts in a Vitest project of their own with isolation 'shared', and this one without \`host\` (e.g. a variant of rig.config.ts)`,
      )
    }
    dependsOn[name] = {}
    for (const [dep, cond] of Object.entries(normaliseDependsOn(o.dependsOn))) {
      const d = defs[dep]
      if (isOneShot(d)) continue
      for (const proxied of [name, dep]) {
        const po = defs[proxied]?.options
        if (po && ((po.proxy !== undefined && po.proxy !== false) || po.faults !== undefined)) {
          throw new ConfigError(
            'RIG_STACK_PROXY',
            `service "${proxied}" has a proxy (\`proxy\` or \`faults\`), and under isolation 'stack' the copies of "${name}" connect ${proxied === name ? 'to each other' : `to their own copy of "${dep}"`} directly, past it: faults set by a test would not reach them. Run the fault tests in a Vitest project of their own with isolation 'shared', and this one without \`proxy\`/\`faults\` (e.g. a variant of rig.config.ts)`,
          )
        }
      }
      dependsOn[name][dep] = cond
      if (!(isCommand(d) && copied.includes(dep))) given.add(dep)
    }
  }
  return { copied, given: [...given], dependsOn }
}

/** The worker stacks of a run. */
export interface WorkerStacks {
  /** The copies' start timeline for the report, one entry per copy, times from `t0`. */
  timeline(t0: number, root: string): TimelineEntry[]
  /** Stops every copy (before the clones they use are dropped). */
  stop(): Promise<void>
}

/**
 * The CA trust of the run's environment (`NODE_EXTRA_CA_CERTS`, `RIG_CA_CERT`), when a store the
 * copies reach serves TLS: a `rediss://` URL carries no CA, so the copies must trust it as the
 * originals do.
 */
function trustOf(services: Record<string, ProvidedService>): Record<string, string> {
  for (const s of Object.values(services)) {
    const { NODE_EXTRA_CA_CERTS: bundle, RIG_CA_CERT: ca } = s.env
    if (bundle && ca) return { NODE_EXTRA_CA_CERTS: bundle, RIG_CA_CERT: ca }
  }
  return {}
}

/** The config of worker `id`'s stack: the given services as `external()` addresses of its clones, the copied commands as they are. */
function stackConfig(config: RigConfig, plan: StackPlan, services: Record<string, ProvidedService>, id: number): RigConfig {
  const defs = config.services as Record<string, ServiceDefinition>
  const out: RigConfig['services'] = Object.create(null)
  for (const name of plan.given) {
    const s = services[name]
    if (!s) continue
    const prefix = varName(name, '')
    const own = new Set(['URL', 'HOST', 'PORT'])
    const exports = Object.fromEntries(
      Object.entries(workerEnv(s, id))
        .filter(([k]) => k.startsWith(prefix) && !own.has(k.slice(prefix.length)))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    )
    // Already ready: nothing to probe.
    out[name] = external({ url: workerUrl(s, id), exports, ready: [] })
  }
  for (const name of plan.copied) {
    const def = defs[name]!
    // Copies are not on the front proxy: it serves the originals' names.
    out[name] = { kind: def.kind, options: { ...def.options, dependsOn: plan.dependsOn[name] ?? {}, public: false } }
  }
  return { services: out, ...(config.readyTimeout !== undefined ? { readyTimeout: config.readyTimeout } : {}) }
}

/**
 * Starts `workers` stacks (all in parallel) and records each copy on its service
 * (`workerCopies`). When one cannot start, every other is stopped and the error says which
 * worker's copy failed, with the start's own evidence.
 */
export async function startWorkerStacks(config: RigConfig, plan: StackPlan, services: Record<string, ProvidedService>, workers: number, o: { root: string; logsDir: string }): Promise<WorkerStacks> {
  const started: { env: Environment }[] = []
  const t = performance.now()
  const results = await Promise.allSettled(
    Array.from({ length: workers }, async (_, i) => {
      const env = await startEnvironment(stackConfig(config, plan, services, i + 1), { root: o.root, logsDir: path.join(o.logsDir, `worker-${i + 1}`), sharedEnv: trustOf(services) })
      started[i] = { env }
      await serveControl(env, path.join(env.dir, 'control.sock'), () => {})
      return env
    }),
  )
  const stop = async (): Promise<void> => {
    await Promise.all(started.filter(Boolean).map((s) => s.env.stop().catch(() => {})))
  }
  const failed = results.findIndex((r) => r.status === 'rejected')
  if (failed >= 0) {
    await stop()
    const err = (results[failed] as PromiseRejectedResult).reason
    throw new RigError('RIG_STACK_START', `isolation 'stack': worker ${failed + 1}'s copy of ${plan.copied.join(', ')} could not start: ${describeError(err)}`, { cause: err })
  }
  for (const name of plan.copied) {
    const s = services[name]
    if (!s) continue
    s.workerCopies = started.map(({ env }) => {
      const c = env.get(name)
      return { url: c.url, host: c.host, port: c.port, pid: c.pid ?? null, env: c.env, logFile: c.logs.file, controlSocket: path.join(env.dir, 'control.sock') }
    })
  }
  return {
    timeline(t0, root) {
      return started.flatMap(({ env }, i) =>
        plan.copied.map((name) => {
          const c = env.get(name)
          const shift = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms + (t - t0))
          const tl = c.timeline
          return {
            service: name,
            worker: i + 1,
            kind: c.kind,
            provider: c.provider,
            url: maskPassword(c.url),
            dependsOn: tl.dependsOn,
            ...(tl.startingAt !== undefined ? { startingAt: shift(tl.startingAt) } : {}),
            ...(tl.startedAt !== undefined ? { startedAt: shift(tl.startedAt) } : {}),
            ...(tl.readyAt !== undefined ? { readyAt: shift(tl.readyAt) } : {}),
            logFile: path.relative(root, c.logs.file),
          }
        }),
      )
    },
    stop,
  }
}
