// Worker side of the core: what a test calls (`services()`, `allowLeak()`, `expectLog()`,
// `useFixture()`) and the per-test declarations the test session reads. An adapter binds it
// to its runner once (`bindWorker`): where the provided data comes from, which worker this is.
import { varName } from '../env/var-name.ts'
import { RigError } from '../errors.ts'
import type { ServiceState } from '../env/state.ts'
import type { MemberState } from '../env/members.ts'
import type { RestartChange } from '../services/service-kind.ts'
import type { ProvidedService, RigProvided } from './provided.ts'
import { ownCopies } from './worker-copies.ts'
import { readdress } from '../proxy/readdress.ts'
// The controls (faults, hosts, topology) are loaded when a test first uses one: every test
// file's fresh worker imports this module, few of them call a control.
import type { FaultControls } from '../proxy/test-faults.ts'
import type { TestHost } from '../hosts/test-hosts.ts'
import type { TopologyControls } from '../topology/test-topology.ts'
import type { RoleChange, RoleChangeOptions } from '../topology/topology.ts'

const faultsModule = (): Promise<typeof import('../proxy/test-faults.ts')> => import('../proxy/test-faults.ts')

/** A request to an environment's control server; its client is loaded on the first one (a test file may make none). */
export async function controlRequest<T>(socketPath: string, method: 'GET' | 'POST', path: string, timeoutMs?: number, body?: unknown): Promise<T> {
  return (await import('../env/control-client.ts')).controlRequest<T>(socketPath, method, path, timeoutMs, body)
}
const topologyModule = (): Promise<typeof import('../topology/test-topology.ts')> => import('../topology/test-topology.ts')

/**
 * A service as a test sees it, with controls for failover scenarios. With a proxy (`proxy:
 * true`), `url`/`host`/`port` go through it and `direct` does not.
 */
export interface TestService extends FaultControls, TopologyControls {
  name: string
  kind: string
  url: string
  host: string
  port: number
  env: Record<string, string>
  /** The service itself, past its proxy (the same as `url`… without one). */
  direct: { url: string; host: string; port: number }
  stop(): Promise<void>
  /** SIGKILLs the service; for one of several processes, only `member` (`node2`, or a role: `master`). */
  kill(member?: string): Promise<void>
  /**
   * Stops and starts the service again, waiting until it is ready. `{ run, env }` (a command
   * only): a new version on the same address, the previous one kept when the new one does not
   * get ready. With `instances`, a rolling replacement: one instance at a time, each new one
   * ready before the old one stops.
   */
  restart(change?: RestartChange): Promise<void>
  /**
   * Makes a replica the master and resolves with its member name once it is seen as such; the
   * service's address follows it. Redis: `SENTINEL FAILOVER`. PostgreSQL with replicas: the
   * primary is killed (SIGKILL) and the most advanced replica (or `to`) promoted (`node1`).
   */
  failover(options?: RoleChangeOptions): Promise<string>
  /** The processes of a service that runs several, with their roles now (empty for one of one). */
  members(): Promise<MemberState[]>
  pause(): Promise<void>
  resume(): Promise<void>
}

/** What the current test declared. */
export interface TestDeclarations {
  /** `true`: every store; otherwise the store names. */
  allowLeak: true | Set<string>
  expectedLogs: { service: string; pattern: RegExp }[]
}

/** How a runner's worker reaches the core. */
export interface WorkerBinding {
  /** The data the node side provided; throws an error that says how to set the adapter up when there is none. */
  provided(): RigProvided
  /** This worker's number, from 1 (picks its copy of each store under `isolation: 'database'`). */
  workerId(): number
}

/** What the test session and the helpers a test calls share in one worker. */
interface WorkerState {
  binding?: WorkerBinding
  current: TestDeclarations
  changedByTest: { faults: string[]; roles: string[] }
  pids: Map<string, number | null>
  fixtures: { use?: (name: string) => Promise<void> }
  settling: { run?: () => Promise<void> }
}

/**
 * One state per process, whichever copy of this module holds it: the published build bundles
 * Vitest's setup file (scripts/build.ts: one module for each test file's fresh worker to load)
 * with its own copy of this module, while a test file reaches the helpers through
 * `testrig/vitest`'s modules. `rig.allowLeak()` there must be what the session reads here.
 */
const state: WorkerState = ((globalThis as { [key: symbol]: WorkerState })[Symbol.for('testrig.worker')] ??= {
  current: { allowLeak: new Set(), expectedLogs: [] },
  changedByTest: { faults: [], roles: [] },
  pids: new Map(),
  fixtures: {},
  settling: {},
})

/** Binds the core to a runner's worker; the adapter's worker entry calls it when it is imported. */
export function bindWorker(b: WorkerBinding): void {
  state.binding = b
}

/** This worker's number, from 1 (1 when no runner is bound). */
export function workerId(): number {
  return state.binding?.workerId() ?? 1
}

/** The data the node side provided to this worker. */
export function rigProvided(): RigProvided {
  const binding = state.binding
  if (!binding) throw new RigError('RIG_ADAPTER_MISSING', 'testrig is not set up in this test runner: use the adapter of your runner (testrig/vitest for Vitest)')
  return ownCopies(binding.provided(), binding.workerId())
}

/** Declarations of the running test; reset before each test by the test session. */
export const current: TestDeclarations = state.current
/**
 * What the running test changed outside the stores, noted by the controls for the test session:
 * network faults and host changes (`faults`: undone after the test) and role changes (`roles`: recorded).
 */
export const changedByTest: { faults: string[]; roles: string[] } = state.changedByTest
/** Services whose process was replaced by a control (restart): new pids. */
export const pids: Map<string, number | null> = state.pids

/** Which of a service's per-worker copies is worker `id`'s (this worker's by default). */
function copyIndex(copies: readonly unknown[], id = workerId()): number {
  return (id - 1) % copies.length
}

/** A worker's view of a service (this worker's by default): its own copy of the store under `isolation: 'database'`. */
export function workerUrl(s: ProvidedService, id?: number): string {
  return s.workerUrls?.[copyIndex(s.workerUrls, id)] ?? s.url
}

/** `value` with the database part of `from` (its path) replaced by `to`'s, when it is a URL of the same store. */
function toCopy(value: string, from: URL, to: URL): string {
  let v: URL
  try {
    v = new URL(value)
  } catch {
    return value
  }
  if (v.protocol !== from.protocol || v.pathname !== from.pathname) return value
  v.pathname = to.pathname
  return v.toString()
}

/**
 * A service's `RIG_<NAME>_*` variables as this worker sees them. Under `isolation: 'database'`
 * every one describes the worker's copy: the URL (and any other URL of the same database, such
 * as one past a proxy), `_DATABASE` / `_VHOST` / `_PREFIX` from the copy; for Redis `_DB` is
 * the database index, so a suite that connects with host, port and database gets the copy too.
 */
export function workerEnv(s: ProvidedService, id?: number): Record<string, string> {
  const env = { ...s.env }
  const url = workerUrl(s, id)
  if (url !== s.url) {
    const from = new URL(s.url)
    const to = new URL(url)
    for (const [k, v] of Object.entries(env)) env[k] = v === s.url ? url : toCopy(v, from, to)
    env[varName(s.name, 'URL')] = testUrl(s, id)
    if (s.workerEnvs) Object.assign(env, s.workerEnvs[copyIndex(s.workerEnvs, id)])
  }
  if (/^rediss?:\/\//.test(url)) env[varName(s.name, 'DB')] = new URL(url).pathname.replace(/^\//, '') || '0'
  return env
}

/** {@link workerUrl} as tests reach it: through the service's proxy when it has one. */
export function testUrl(s: ProvidedService, id?: number): string {
  return s.proxy ? readdress(workerUrl(s, id), s, s.proxy) : workerUrl(s, id)
}

/** Removes what this test set so far (faults, switches, hosts); the rest is removed after the test. */
export async function clearFaults(): Promise<void> {
  const socket = rigProvided().controlSocket
  await (await faultsModule()).clearAllFaults(socket)
}

/**
 * Puts every service's `RIG_<NAME>_*` variables into `process.env`, this worker's copies in
 * place of the shared stores. Call it before the test files are imported: they may read them
 * at the top.
 */
export function exportWorkerVars(provided: RigProvided): void {
  const p = ownCopies(provided, workerId())
  for (const [k, v] of Object.entries(p.vars)) process.env[k] = v
  for (const s of Object.values(p.services)) Object.assign(process.env, workerEnv(s))
}

function handle(s: ProvidedService): TestService {
  const request = async (method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<ServiceState & { master?: string; change?: RoleChange }> => {
    // A worker's copy (`isolation: 'stack'`) is run by its worker's stack, not by the environment.
    const socket = s.controlSocket ?? rigProvided().controlSocket
    if (!socket) throw new RigError('RIG_NO_CONTROL', `cannot ${what} "${s.name}": the environment has no control socket`)
    return controlRequest<ServiceState & { master?: string; change?: RoleChange }>(socket, method, path, 600_000, body)
  }
  const base = `/services/${encodeURIComponent(s.name)}`
  const control = (action: string) => async (member?: string): Promise<void> => {
    const after = await request('POST', `${base}/${action}${member === undefined ? '' : `?member=${encodeURIComponent(member)}`}`, action)
    pids.set(s.name, after.pid)
  }
  const socket = (): string | undefined => rigProvided().controlSocket
  const faults = async (): Promise<FaultControls> => (await faultsModule()).faultControls(s.name, socket)
  const topology = async (): Promise<TopologyControls> => (await topologyModule()).topologyControls(s.name, socket, expectLog)
  const direct = { url: workerUrl(s), host: s.host, port: s.port }
  const reached = s.proxy ?? direct
  return {
    name: s.name,
    kind: s.kind,
    url: testUrl(s),
    host: reached.host,
    port: reached.port,
    env: workerEnv(s),
    direct,
    fault: async (f) => (await faults()).fault(f),
    clearFaults: async () => (await faults()).clearFaults(),
    proxy: {
      hold: async () => (await faults()).proxy.hold(),
      refuse: async () => (await faults()).proxy.refuse(),
      resume: async () => (await faults()).proxy.resume(),
    },
    topology: async () => (await topology()).topology(),
    promote: async (node, options) => (await topology()).promote(node, options),
    switchover: async (options) => (await topology()).switchover(options),
    rejoin: async (node) => (await topology()).rejoin(node),
    kill: control('kill'),
    restart: async (change) => {
      const after = await request('POST', `${base}/restart`, 'restart', change)
      pids.set(s.name, after.pid)
    },
    pause: () => control('pause')(),
    resume: () => control('resume')(),
    stop: () => control('stop')(),
    failover: async (options) => {
      const after = await request('POST', `${base}/failover`, 'fail over', options ?? {})
      pids.set(s.name, after.pid)
      if (after.change) (await topologyModule()).noteRoleChange(s.name, after.change, expectLog)
      return after.master as string
    },
    members: async () => {
      const status = await request('GET', '/status', 'read the members of')
      return (status as unknown as { services: Record<string, ServiceState> }).services[s.name]?.members ?? []
    },
  }
}

/** Every service of the environment. */
export function services(): Record<string, TestService> {
  return Object.fromEntries(Object.values(rigProvided().services).map((s) => [s.name, handle(s)]))
}

/** One service by name. */
export function service(name: string): TestService {
  const all = rigProvided().services
  const s = Object.hasOwn(all, name) ? all[name] : undefined
  if (!s) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(rigProvided().services).join(', ')})`)
  return handle(s)
}

/** Host `name` of rig.config.ts's `hosts`: `down()`/`up()`, `partition(other)`/`heal(other)`, undone after the test. */
export function host(name: string): TestHost {
  const socket = (): string | undefined => rigProvided().controlSocket
  const controls = async (): Promise<TestHost> => (await import('../hosts/test-hosts.ts')).hostControls(name, socket)
  return {
    name,
    down: async () => (await controls()).down(),
    up: async () => (await controls()).up(),
    partition: async (other) => (await controls()).partition(other),
    heal: async (other) => (await controls()).heal(other),
  }
}

export type { TestHost }

/** Set by the test session: switches this worker's guarded stores to a fixture. */
export const fixtures: { use?: (name: string) => Promise<void> } = state.fixtures

/**
 * Loads fixture `name` of rig.config.ts (or restores the snapshot made when the guard first
 * loaded it: under Vitest the guard lasts the run, elsewhere the worker) and makes it the
 * baseline of the tests that follow in this file; call it in `beforeAll`. At the end of the
 * file the stores go back to the run's baseline.
 */
export async function useFixture(name: string): Promise<void> {
  rigProvided()
  if (!fixtures.use) throw new RigError('RIG_FIXTURE_NO_GUARD', `rig.useFixture("${name}") needs a guarded store: the guard is off or no postgres/redis service is guarded`)
  await fixtures.use(name)
}

/** Set by the test session: waits for the application's work in flight in this worker's guarded stores. */
export const settling: { run?: () => Promise<void> } = state.settling

/**
 * Waits until the application has no work in flight (messages ready or unacknowledged in the
 * queues it consumes, transactions open on its connections): "one action, then checks across
 * systems". Throws `NotSettledError` (what was still moving) after the deadline of
 * `guard.settle`. Without a guarded store there is nothing to wait for.
 */
export async function settle(): Promise<void> {
  rigProvided()
  await settling.run?.()
}

/** The current test leaves data behind on purpose: in every store, or only in `stores`. It is still cleaned up. */
export function allowLeak(...stores: string[]): void {
  if (stores.length === 0) current.allowLeak = true
  else if (current.allowLeak !== true) for (const s of stores) current.allowLeak.add(s)
}

/** The current test expects `service` to log a line matching `pattern`; such a line does not fail it. */
export function expectLog(serviceName: string, pattern: RegExp | string): void {
  current.expectedLogs.push({ service: serviceName, pattern: typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern })
}

/**
 * The current test expects the app to report an event matching `pattern` to a `sentry()`
 * service (its line: level, exception type and value, message, top frames); such an event does
 * not fail it.
 */
export function expectReported(pattern: RegExp | string): void {
  const endpoints = Object.values(rigProvided().services).filter((s) => s.kind === 'sentry')
  if (endpoints.length === 0) throw new RigError('RIG_NO_SENTRY', 'rig.expectReported() needs a sentry() service in rig.config.ts: add sentry: sentry() to its services, and dependsOn: [\'sentry\'] to the app that reports')
  for (const s of endpoints) expectLog(s.name, pattern)
}
