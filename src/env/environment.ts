// The environment: a graph of services started with maximal parallelism (each one as soon as
// its dependencies meet their conditions), gated by readiness probes, stopped in reverse
// order, and never leaving a process behind.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DEFAULT_READY_TIMEOUT_MS, timeoutScale } from '../config/defaults.ts'
import type { RigConfig } from '../config/define-config.ts'
import { validateConfig } from '../config/validate.ts'
import { AbortedError, ConfigError, PortInUseError, PrivilegedPortError, RigError, ServiceCrashedError } from '../errors.ts'
import type { Probe } from '../probes/probe.ts'
import { LogBuffer } from '../providers/process/log-buffer.ts'
import { freePort, portProblem } from '../providers/process/ports.ts'
import type { DependencyCondition, Launched, RestartChange, ServiceAddress, ServiceDefinition } from '../services/service-kind.ts'
import type { EnvEvent, EnvEventListener } from './events.ts'
import { normaliseDependsOn } from './graph.ts'
import { Network } from '../proxy/network.ts'
import { ensurePrivateDir } from '../fs-safe/private-dir.ts'
import { envsRoot, Registry, sweepStale } from './registry.ts'
import { StartedService } from './started-service.ts'
import { keepAlive } from './keep-alive.ts'
import { removalUnderWay } from './background.ts'
import { startWatchdog, type Watchdog } from './watchdog.ts'
import { varName } from './var-name.ts'
import { hostNames } from '../hosts/check-hosts.ts'
import { HostError, HostNetwork } from '../hosts/host-network.ts'
import { hostHandle, type HostHandle } from '../hosts/host-handle.ts'
import { DEFAULT_HOST_NETWORK } from '../hosts/subnet.ts'
import { assertHostsSupported } from '../hosts/support.ts'
import { planFront, publicVars } from '../front/plan.ts'
import { startFront, type RunningFront } from '../front/start-front.ts'
import { defaultProjectName } from '../front/plan.ts'
import { environmentTls, needsTls, servesTls, type EnvironmentTls } from '../tls/environment-tls.ts'
import type { TimelineChange } from './timeline.ts'
import type { ManagedProcess } from '../providers/process/managed-process.ts'
import { attachTopology } from '../topology/attach.ts'

/** Options of {@link startEnvironment}. */
export interface StartOptions {
  /** Directory relative paths in the config resolve against. @default process.cwd() */
  root?: string
  /** Where service logs go; relative to `root`. @default config.logsDir, else the environment's temp dir */
  logsDir?: string
  /** Aborts the start (Ctrl-C); everything started so far is stopped. */
  signal?: AbortSignal
  /** Live progress. */
  onEvent?: EnvEventListener
  /**
   * The project whose `.rig/state.json` will publish this environment (`rig up`, `rig run`),
   * recorded in its temp dir so `rig down` finds it even when the state file is damaged.
   */
  project?: string
  /**
   * Variables every process of the environment gets besides its own (a worker's stack: the CA
   * trust of the run's environment, whose TLS stores its copies reach).
   */
  sharedEnv?: Readonly<Record<string, string>>
}

export { varName }

function exportsOf(name: string, host: string, port: number, url: string, extra: Record<string, string>, plain: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...plain, [varName(name, 'URL')]: url, [varName(name, 'HOST')]: host, [varName(name, 'PORT')]: String(port) }
  for (const [k, v] of Object.entries(extra)) env[varName(name, k)] = v
  return env
}

const ADDRESS_IN_USE = /address already in use|EADDRINUSE|could not bind/i

/**
 * Removes a stopped environment's dir without making the caller wait (a data dir is ~1000
 * files): it is renamed out of the way at once (`<id>.removed`), then removed while the event
 * loop is kept alive, `owner.json` last, so that until the dir is gone the stale sweep can tell
 * whether its owner still lives. Resolves once it is gone (never rejects); `backgroundDone()`
 * (./background.ts) waits for every such removal of this process.
 */
function removeInBackground(dir: string): Promise<void> {
  const trash = `${dir}.removed`
  try {
    fs.renameSync(dir, trash)
  } catch {
    fs.rmSync(dir, { recursive: true, force: true })
    return Promise.resolve()
  }
  return removalUnderWay(removeTrash(trash))
}

/** Removes a renamed environment dir: everything but its owner record, then the rest. */
async function removeTrash(trash: string): Promise<void> {
  const entries = await fs.promises.readdir(trash)
  await Promise.all(entries.filter((e) => e !== 'owner.json').map((e) => fs.promises.rm(path.join(trash, e), { recursive: true, force: true })))
  await fs.promises.rm(trash, { recursive: true, force: true })
}

export { backgroundDone } from './background.ts'

/** Records a process a kind spawned besides its own (a replica) until its group is empty. */
function track(registry: Registry, service: string, proc: ManagedProcess): void {
  registry.add(service, proc.pid)
  void proc.exited.then(() => registry.release(proc.pid))
}

/** A started environment. Stop it with `stop()` or `await using`. */
export class Environment implements AsyncDisposable {
  /** Unique id; also the name of its temp dir. */
  readonly id: string
  /** The environment's temp dir (instances, registry); removed on stop. */
  readonly dir: string
  readonly services: Readonly<Record<string, StartedService>>
  /** Wall time from start to every service ready, in ms. */
  startMs = 0
  readonly events: EnvEvent[] = []
  /** Role changes and network faults since the start, in order. */
  readonly changes: TimelineChange[] = []
  private readonly t0 = performance.now()
  private readonly order: string[]
  private readonly watchdog: Watchdog
  private stopping: Promise<void> | undefined
  private readonly listeners = new Set<EnvEventListener>()
  /** rig's proxies in front of services, and the faults in force. */
  readonly network: Network
  /** The config's hosts (network namespaces), when it has any. */
  hosts: HostNetwork | undefined
  /** The front proxy (config `front`): public services by `<service>.<project>.localhost`. */
  front: RunningFront | undefined

  /** @internal use {@link startEnvironment} */
  constructor(id: string, dir: string, services: Record<string, StartedService>, order: string[], watchdog: Watchdog, network: Network) {
    this.id = id
    this.dir = dir
    this.services = services
    this.order = order
    this.watchdog = watchdog
    this.network = network
  }

  /** The service called `name`; throws a clear error for an unknown name. */
  get(name: string): StartedService {
    const s = Object.hasOwn(this.services, name) ? this.services[name] : undefined
    if (!s) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" in this environment (services: ${Object.keys(this.services).join(', ')})`, { exitCode: 2 })
    return s
  }

  /** Host `name` of the config's `hosts`; throws a clear error for an unknown one. */
  host(name: string): HostHandle {
    if (!this.hosts) throw new HostError('RIG_UNKNOWN_HOST', `no host "${name}": this environment has no hosts (add hosts: { ${name}: {} } to rig.config.ts and host: '${name}' to services)`)
    return hostHandle(this.hosts, name)
  }

  /** Records a change of roles or of the network in the timeline. */
  record(service: string, kind: TimelineChange['kind'], text: string): TimelineChange {
    const change: TimelineChange = { at: Math.round(performance.now() - this.t0), time: new Date().toISOString(), service, kind, text }
    this.changes.push(change)
    return change
  }

  /** Subscribes to events (start-up, unexpected exits, controls); returns the unsubscribe function. */
  on(listener: EnvEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** @internal */
  emit(event: EnvEvent): void {
    this.events.push(event)
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // a listener (a progress printer) must not break the environment
      }
    }
  }

  /** `RIG_<NAME>_URL`, `_HOST`, `_PORT` (and kind-specific extras) for every service. */
  vars(): Record<string, string> {
    return Object.assign({}, ...Object.values(this.services).map((s) => s.env)) as Record<string, string>
  }

  /** Stops every service, dependents before their dependencies, and removes temp files. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= keepAlive(this.doStop())
    return this.stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  private async doStop(): Promise<void> {
    const stopped = new Map<string, Promise<void>>()
    const dependents = (name: string): string[] => this.order.filter((n) => this.services[n]?.timeline.dependsOn.includes(name))
    const stopOne = (name: string): Promise<void> => {
      let p = stopped.get(name)
      if (!p) {
        p = (async () => {
          await Promise.all(dependents(name).map(stopOne))
          const s = this.services[name]
          if (!s) return
          await s.stop({ teardown: true }).catch(() => {})
          await s.logs.close()
        })()
        stopped.set(name, p)
      }
      return p
    }
    await Promise.all(this.order.map(stopOne))
    await this.front?.close()
    await this.network.close()
    await this.hosts?.close()
    // The watchdog stays until the dir is gone: were this process to exit or be killed before,
    // it removes what is left (and kills nothing: every recorded group has ended).
    void removeInBackground(this.dir).then(() => this.watchdog.release())
  }

  /** Serialisable description (what `rig status --json` shows). */
  toJSON(): Record<string, unknown> {
    const front = this.front && { project: this.front.plan.project, port: this.front.plan.port, tls: this.front.plan.tls, urls: this.front.urls }
    return { id: this.id, startMs: Math.round(this.startMs), ...(this.hosts ? { hosts: this.hosts.state() } : {}), ...(front ? { front } : {}), services: Object.fromEntries(Object.entries(this.services).map(([k, s]) => [k, this.withProxy(k, s.toJSON())])) }
  }

  /** A service's JSON with its proxy, when it has one. */
  withProxy<T extends object>(name: string, json: T): T & { proxy?: ReturnType<Network['stateOf']> } {
    const proxy = this.network.stateOf(name, this.services[name]?.url)
    return proxy ? { ...json, proxy } : json
  }
}

/**
 * Starts every service of `config` and resolves once all are ready. On any failure, everything
 * already started is stopped before the error is thrown.
 *
 * @example
 * await using env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
 * console.log(env.get('db').url)
 */
export function startEnvironment(config: RigConfig, options: StartOptions = {}): Promise<Environment> {
  return keepAlive(start(config, options))
}

async function start(config: RigConfig, options: StartOptions): Promise<Environment> {
  const order = validateConfig(config)
  // A kind's role addresses (PostgreSQL replicas) are proxies: the service gets one as if asked.
  const planned = Object.fromEntries(order.map((n) => {
    const def = config.services[n] as ServiceDefinition
    return [n, { options: { ...def.options, proxy: def.options.proxy || (def.kind.wantsProxy?.(def.options) ?? false) } }]
  }))
  const network = new Network({ services: planned, dependsOn: Object.fromEntries(order.map((n) => [n, Object.keys(normaliseDependsOn(config.services[n]?.options.dependsOn))])) })
  const root = path.resolve(options.root ?? process.cwd())
  const placedOn = hostNames(config)
  // Before anything is made: without root or iproute2, say so and point at the proxy.
  if (placedOn.length > 0) assertHostsSupported(placedOn)
  const frontPlan = planFront(config, root)
  const shared: Record<string, string> = { ...options.sharedEnv, ...(frontPlan ? publicVars(frontPlan) : {}) }
  const t0 = performance.now()
  sweepStale()
  const id = `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`
  const dir = path.join(envsRoot(), id)
  const registry = new Registry(dir, options.project)
  let watchdog: Watchdog
  try {
    watchdog = await startWatchdog(dir)
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const logsDirOption = options.logsDir ?? config.logsDir
  const logsDir = logsDirOption ? path.resolve(root, logsDirOption) : ensurePrivateDir(path.join(dir, 'logs'))
  fs.mkdirSync(logsDir, { recursive: true })
  const scale = timeoutScale()

  // Keyed by user-chosen names: no prototype, so "toString" is never found by accident.
  const services: Record<string, StartedService> = Object.create(null)
  const deps: Record<string, Record<string, DependencyCondition>> = Object.create(null)
  for (const name of order) {
    const def = config.services[name] as ServiceDefinition
    deps[name] = normaliseDependsOn(def.options.dependsOn)
    const logFile = path.join(logsDir, `${name}.log`)
    services[name] = new StartedService(name, def.kind.name, path.join(dir, name), new LogBuffer(logFile), Object.keys(deps[name] ?? {}))
  }
  const env = new Environment(id, dir, services, order, watchdog, network)
  if (options.onEvent) env.on(options.onEvent)
  if (placedOn.length > 0) {
    try {
      env.hosts = await HostNetwork.create(id, placedOn, process.env.RIG_HOST_NETWORK || config.hostNetwork || DEFAULT_HOST_NETWORK)
    } catch (err) {
      await env.stop()
      throw err
    }
  }
  const emit: EnvEventListener = (e) => env.emit(e)
  const at = (): number => performance.now() - t0
  let tls: EnvironmentTls | undefined
  try {
    if (needsTls(config)) {
      tls = environmentTls(frontPlan?.project ?? config.project ?? defaultProjectName(root), dir, env.hosts ? { hostSubnet: env.hosts.state().subnet } : {})
      Object.assign(shared, tls.vars)
    }
    if (frontPlan) env.front = await startFront(frontPlan, { root, envId: id, network, tls: frontPlan.tls ? tls?.front() : undefined, service: (n) => (Object.hasOwn(services, n) ? services[n] : undefined) })
  } catch (err) {
    await env.stop()
    throw err
  }

  const abort = new AbortController()
  const onOuterAbort = (): void => abort.abort(new AbortedError('starting the environment', options.signal?.reason))
  if (options.signal?.aborted) onOuterAbort()
  options.signal?.addEventListener('abort', onOuterAbort, { once: true })

  // One promise per service and condition; a dependent awaits the ones it names.
  const startedP = new Map<string, Promise<void>>()
  const readyP = new Map<string, Promise<void>>()
  const errors: unknown[] = []

  const timeoutOf = (name: string): number => (config.services[name]?.options.readyTimeout ?? config.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS) * scale

  const startOne = async (name: string): Promise<void> => {
    const def = config.services[name] as ServiceDefinition
    const svc = services[name] as StartedService
    const timeoutMs = timeoutOf(name)
    const wanted = Object.entries(deps[name] ?? {})
    if (wanted.length > 0) emit({ type: 'waiting', service: name, at: at(), on: wanted.map(([d]) => d) })
    await Promise.all(
      wanted.map(([dep, cond]) => {
        if (cond === 'started') return startedP.get(dep)
        if (cond === 'completed') return readyP.get(dep)?.then(() => (services[dep] as StartedService).waitCompleted(timeoutOf(dep), name, abort.signal))
        return readyP.get(dep)
      }),
    )
    if (abort.signal.aborted) throw abort.signal.reason
    svc.timeline.startingAt = at()
    emit({ type: 'starting', service: name, at: at() })
    ensurePrivateDir(svc.dir)
    const depAddresses: Record<string, ServiceAddress> = Object.create(null)
    for (const d of Object.keys(deps[name] ?? {})) depAddresses[d] = await network.addressFor(services[d] as StartedService, name)
    const fixedPort = def.options.port
    const placed = def.options.host === undefined ? undefined : env.hosts?.get(def.options.host)
    // A host's namespace has ports of its own: the root namespace's say nothing about them.
    const problem = fixedPort === undefined || placed ? undefined : await portProblem(fixedPort)
    if (fixedPort !== undefined && problem) throw problem === 'privileged' ? new PrivilegedPortError(name, fixedPort) : new PortInUseError(name, fixedPort)
    const needsPort = def.kind.needsPort ? def.kind.needsPort(def.options) : true
    if (network.get(name) && !needsPort && fixedPort === undefined) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}" has a proxy but no port rig knows: use {port} in its command (or set \`port\`), or drop \`proxy\` and \`faults\``)
    }
    await network.get(name)?.open(network.fixedPort(name))
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? (needsPort ? await freePort() : 0)
      // A new version (`restart({ run, env })`) starts the same way, on the same port.
      const build = async (options: typeof def.options, signal: AbortSignal): Promise<{ launched: Launched; probes: Probe[] }> => {
        const launched = await def.kind.start(
          {
            name,
            dir: svc.dir,
            logs: svc.logs,
            port,
            host: placed?.address ?? '127.0.0.1',
            netns: placed?.netns,
            clientRange: placed && env.hosts ? env.hosts.state().subnet : undefined,
            deps: depAddresses,
            root,
            signal,
            env: shared,
            certificate: tls ? () => (tls as EnvironmentTls).forService(name, placed?.address) : undefined,
            notice: (message) => emit({ type: 'notice', service: name, at: at(), message }),
            track: (proc) => track(registry, name, proc),
          },
          options,
        )
        if (frontPlan && Object.hasOwn(frontPlan.services, name) && launched.port === 0) {
          throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}" is public on the front proxy but has no port rig knows: use {port} in its command or env (or set \`port\`), or make it \`public: false\``)
        }
        svc.env = exportsOf(name, launched.host, launched.port, launched.url, launched.env, launched.plainEnv)
        if (network.get(name)) svc.env = network.proxiedExports(name, launched, svc.env).env
        const own = varName(name, 'PUBLIC_URL')
        if (shared[own]) svc.env[own] = shared[own]
        // Tests and `rig run` get the variables of every service: the CA goes with the HTTPS ones.
        if (tls && (launched.url.startsWith('https:') || svc.env[own]?.startsWith('https:') || servesTls(options))) Object.assign(svc.env, tls.vars)
        const ready = options.ready
        const probes: Probe[] = [...(launched.setup ?? []), ...(ready === undefined ? launched.defaultReady : Array.isArray(ready) ? ready : [ready as Probe])]
        return { launched, probes: launched.wrapReady ? launched.wrapReady(probes) : probes }
      }
      const { launched, probes } = await build(def.options, abort.signal)
      let current = def.options
      const relaunch = def.kind.withChange
        ? async (change: RestartChange, signal: AbortSignal) => {
            const next = (def.kind.withChange as NonNullable<typeof def.kind.withChange>)(current, change, `restart of service "${name}"`)
            const built = await build(next, signal)
            return { ...built, commit: () => (current = next) }
          }
        : undefined
      try {
        const checkChange = def.kind.withChange ? (change: RestartChange): void => void def.kind.withChange?.(current, change, `restart of service "${name}"`) : undefined
        await svc.boot({ launched, probes, readyTimeoutMs: timeoutMs, registry, emit, t0, ...(relaunch && checkChange ? { relaunch, checkChange } : {}) }, abort.signal)
        if (launched.topology) Object.assign(svc.env, await attachTopology(svc, launched.topology, network))
        return
      } catch (err) {
        // Another process grabbed the port between our reservation and the server's bind: retry.
        const raced = err instanceof ServiceCrashedError && fixedPort === undefined && needsPort && attempt < 3 && svc.logs.texts().some((l) => ADDRESS_IN_USE.test(l))
        if (!raced) throw err
        svc.logs.push('rig', `port ${port} was taken while starting; retrying on another port`)
        fs.rmSync(svc.dir, { recursive: true, force: true })
        ensurePrivateDir(svc.dir)
      }
    }
  }

  const markStarted = new Map<string, () => void>()
  for (const name of order) startedP.set(name, new Promise<void>((r) => markStarted.set(name, r)))
  // A dependent waiting for `started` may go ahead as soon as the process is spawned.
  env.on((e) => {
    if (e.type === 'started') markStarted.get(e.service)?.()
  })
  for (const name of order) {
    const p = startOne(name).catch((err: unknown) => {
      markStarted.get(name)?.()
      if (!(err instanceof AbortedError) || errors.length === 0) errors.push(err)
      ;(services[name] as StartedService).status = 'failed'
      emit({ type: 'failed', service: name, at: at(), error: err instanceof Error ? err.message : String(err) })
      abort.abort(err)
      throw err
    })
    p.catch(() => {})
    readyP.set(name, p)
  }

  const results = await Promise.allSettled(readyP.values())
  options.signal?.removeEventListener('abort', onOuterAbort)
  if (results.some((r) => r.status === 'rejected')) {
    await env.stop()
    const root = errors.find((e) => !(e instanceof AbortedError)) ?? errors[0]
    throw root
  }
  env.startMs = at()
  return env
}
