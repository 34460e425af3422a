// The team's own processes: an API, a worker, a front-end dev server, or a one-shot task such
// as a migration that dependents wait on with the `completed` condition.
import path from 'node:path'
import { check, invalid } from '../../config/option-checks.ts'
import { ConfigError } from '../../errors.ts'
import { expandTemplate, usesOwnPort, type TemplateSelf } from '../../env/template.ts'
import { ProbeFailure, type Probe } from '../../probes/probe.ts'
import { tcp } from '../../probes/tcp.ts'
import { ManagedProcess, type SpawnSpec } from '../../providers/process/managed-process.ts'
import { startInstances, withChange } from './instances.ts'
import { defineService, type CommonOptions, type ServiceAddress, type ServiceDefinition, type Launched, type ServiceKind, type StartContext } from '../service-kind.ts'

/** Env for a command: a map (values may use placeholders) or a function of the started dependencies. */
export type CommandEnv = Record<string, string> | ((deps: Readonly<Record<string, ServiceAddress>>, self: TemplateSelf) => Record<string, string>)

/** Options of {@link command}. */
export interface CommandOptions {
  /** What to run: a shell command line, or an argv array run without a shell. Placeholders allowed. */
  run: string | readonly string[]
  /** Working directory, relative to the config file. */
  cwd?: string
  /** Extra env vars; `{port}`, `{db.url}`… placeholders are replaced. */
  env?: CommandEnv
  /**
   * The address dependents and tests get.
   * @default 'http://127.0.0.1:{port}'
   */
  url?: string
  /** @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals
  /** @default 5000 */
  stopGrace?: number
  /**
   * Runs this many copies, each on a port of its own (`{port}` is the copy's), behind one
   * stable address (the service's port) that hands each connection to the next copy; a
   * restart replaces them one at a time, each new one ready before the old one stops.
   */
  instances?: number
  /**
   * A task that runs to completion (a migration, a seed): the environment is ready only once
   * it exited with code 0, and every dependent waits for that.
   * @default false
   */
  oneShot?: boolean
}

/** The readiness of a one-shot task: it never passes; the task exiting with code 0 does. */
const untilExit: Probe = {
  name: 'exit with code 0',
  timeoutMs: 1000,
  run: async () => {
    throw new ProbeFailure('assertion', 'still running')
  },
}

function mentionsPort(o: CommandOptions): boolean {
  const texts = [typeof o.run === 'string' ? o.run : o.run.join(' '), o.url ?? '']
  if (o.env && typeof o.env === 'object') texts.push(...Object.values(o.env))
  // A function env may well use {port}; giving it one costs nothing.
  return typeof o.env === 'function' || texts.some(usesOwnPort)
}

/** What one process of a command runs, for the port it gets. */
export interface Prepared {
  spawn: SpawnSpec
  url: string
  /** Whether the command line or env carries the port (or it was fixed): it listens there. */
  usesPort: boolean
}

/** Expands the command's placeholders and env for a process listening on `port`. */
function prepare(ctx: StartContext, o: CommandOptions & CommonOptions, port: number): Prepared {
  const self: TemplateSelf = { name: ctx.name, host: ctx.host, port, dir: ctx.dir }
  const expand = (s: string): string => expandTemplate(s, self, ctx.deps)
  let userEnv: Record<string, string>
  try {
    userEnv = typeof o.env === 'function' ? o.env(ctx.deps, self) : (o.env ?? {})
  } catch (err) {
    throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}": its \`env\` function threw: ${err instanceof Error ? err.message : String(err)} (it receives the started dependencies by name: list each one it reads in \`dependsOn\`)`, { cause: err })
  }
  // An env function is only called now, with the dependencies' addresses.
  if (typeof o.env === 'function') {
    try {
      check.scalarMap(`service "${ctx.name}"`, 'env', userEnv ?? null)
    } catch (err) {
      throw new ConfigError('RIG_CONFIG_INVALID', `${(err as Error).message} (returned by its \`env\` function): return an object of strings, e.g. env: ({ db }) => ({ DATABASE_URL: db.url })`)
    }
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.env }
  for (const dep of Object.values(ctx.deps)) Object.assign(env, dep.env)
  for (const [k, v] of Object.entries(userEnv)) env[k] = expand(String(v))
  const cwd = path.resolve(ctx.root, o.cwd ?? '.')
  const [command, args] = typeof o.run === 'string' ? ['/bin/sh', ['-c', expand(o.run)]] : [expand(o.run[0] ?? ''), o.run.slice(1).map(expand)]
  // A port was reserved when the command might use one; it listens there only if the
  // expanded command line or env actually carries it (or the user fixed it).
  const portText = String(port)
  const usesPort = port > 0 && (o.port !== undefined || o.url !== undefined || [...args, ...Object.values(userEnv).map((v) => expand(String(v)))].some((a) => a.includes(portText)))
  const url = o.url ? expand(o.url) : usesPort ? `http://${ctx.host}:${port}` : ''
  return { spawn: { command, args, cwd, env, netns: ctx.netns, stopSignal: o.stopSignal ?? 'SIGTERM', stopGraceMs: o.stopGrace ?? 5000 }, url, usesPort }
}

const commandKind: ServiceKind<CommandOptions> = {
  name: 'command',
  optionKeys: ['run', 'cwd', 'env', 'url', 'stopSignal', 'stopGrace', 'oneShot', 'instances'],
  needsPort: (o) => o.instances !== undefined || mentionsPort(o),
  runsOnHosts: true,
  errorPatterns: [/^\s*at .+:\d+:\d+\)?$/, /Unhandled(Promise)?Rejection|unhandled rejection/i, /\bpanic:/, /^(Type|Reference|Syntax|Range)Error\b/, /\bERROR\b/],
  validate(o, where) {
    const run: unknown = o.run
    const argv = Array.isArray(run) && run.length > 0 && run.every((a) => typeof a === 'string') && run[0] !== ''
    if (!(typeof run === 'string' && run.trim() !== '') && !argv) invalid(where, 'run', "a command line ('node server.js') or a non-empty argv array (['node', 'server.js'])", run)
    check.string(where, 'cwd', o.cwd)
    check.string(where, 'url', o.url)
    if (typeof o.env !== 'function') check.scalarMap(where, 'env', o.env)
    check.signal(where, 'stopSignal', o.stopSignal)
    check.ms(where, 'stopGrace', o.stopGrace)
    check.boolean(where, 'oneShot', o.oneShot)
    const n = o.instances
    if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 16)) invalid(where, 'instances', 'a whole number from 1 to 16', n)
    if (n !== undefined && o.oneShot) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: a oneShot task has no instances: remove one of the two`)
    if (n !== undefined && o.host !== undefined) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: instances run on 127.0.0.1 only: remove \`host\``)
  },
  async start(ctx, o) {
    if (o.instances !== undefined) return startInstances(ctx, o, (opts, port) => prepare(ctx, opts, port))
    return startOne(ctx, o)
  },
  /** A new version of the command: the config's options with `change` applied, checked like the config. */
  withChange(o, change, where) {
    const next = withChange(o, change)
    commandKind.validate?.(next, where)
    return next
  },
}

/** One process of a command on the service's own port. */
function startOne(ctx: StartContext, o: CommandOptions & CommonOptions): Launched {
  const p = prepare(ctx, o, ctx.port)
  return {
    host: ctx.host,
    port: p.usesPort ? ctx.port : 0,
    url: p.url,
    env: {},
    provider: 'process',
    launch: () => new ManagedProcess(p.spawn, ctx.logs),
    // A command with a port is ready when it accepts connections; one without is ready once
    // spawned; a one-shot task once it exited 0.
    defaultReady: o.oneShot ? [untilExit] : p.usesPort ? [tcp()] : [],
    completesOnExit: o.oneShot === true,
  }
}

/** One of the team's own processes, started with its dependencies' addresses in its env. */
export function command(options: CommandOptions & CommonOptions): ServiceDefinition<CommandOptions> {
  return defineService(commandKind, options)
}

export { commandKind }
