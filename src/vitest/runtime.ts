// Worker side: what a test calls (`services()`, `rig.allowLeak()`, `rig.expectLog()`), and the
// per-test state the setup file's hooks read.
import { inject } from 'vitest'
import { controlRequest } from '../env/control-client.ts'
import { RigError } from '../errors.ts'
import type { ServiceState } from '../env/state.ts'
import type { ProvidedService, RigProvided } from './provided.ts'

/** A service as a test sees it, with controls for failover scenarios. */
export interface TestService {
  name: string
  kind: string
  url: string
  host: string
  port: number
  env: Record<string, string>
  stop(): Promise<void>
  kill(): Promise<void>
  restart(): Promise<void>
  pause(): Promise<void>
  resume(): Promise<void>
}

/** What the current test declared. */
export interface TestDeclarations {
  /** `true`: every store; otherwise the store names. */
  allowLeak: true | Set<string>
  expectedLogs: { service: string; pattern: RegExp }[]
}

let provided: RigProvided | undefined
/** Declarations of the running test; reset before each test by the setup file. */
export const current: TestDeclarations = { allowLeak: new Set(), expectedLogs: [] }
/** Services whose process was replaced by a control (restart): new pids. */
export const pids = new Map<string, number | null>()

/** The data the plugin provided to this worker. */
export function rigProvided(): RigProvided {
  if (!provided) {
    try {
      provided = inject('rig')
    } catch {
      provided = undefined
    }
    if (!provided) throw new RigError('RIG_PLUGIN_MISSING', 'testrig services are not available in this test: add `plugins: [rig()]` (from testrig/vitest) to vitest.config.ts')
  }
  return provided
}

/** This worker's view of a service: its own database clone under `isolation: 'database'`. */
export function workerUrl(s: ProvidedService): string {
  const id = Number(process.env.VITEST_POOL_ID ?? 1)
  return s.workerUrls?.[(id - 1) % s.workerUrls.length] ?? s.url
}

function handle(s: ProvidedService): TestService {
  const control = (action: string) => async (): Promise<void> => {
    const socket = rigProvided().controlSocket
    if (!socket) throw new RigError('RIG_NO_CONTROL', `cannot ${action} "${s.name}": the environment has no control socket`)
    const after = await controlRequest<ServiceState>(socket, 'POST', `/services/${encodeURIComponent(s.name)}/${action}`)
    pids.set(s.name, after.pid)
  }
  return { name: s.name, kind: s.kind, url: workerUrl(s), host: s.host, port: s.port, env: s.env, stop: control('stop'), kill: control('kill'), restart: control('restart'), pause: control('pause'), resume: control('resume') }
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

/** Set by the setup file: switches this worker's guarded stores to a fixture. */
export const fixtures: { use?: (name: string) => Promise<void> } = {}

/**
 * Loads fixture `name` of rig.config.ts (or restores it, when this file loaded it before) and
 * makes it the baseline of the tests that follow in this file; call it in `beforeAll`. At the
 * end of the file the stores go back to the run's baseline.
 */
export async function useFixture(name: string): Promise<void> {
  rigProvided()
  if (!fixtures.use) throw new RigError('RIG_FIXTURE_NO_GUARD', `rig.useFixture("${name}") needs a guarded store: the guard is off or no postgres/redis service is guarded`)
  await fixtures.use(name)
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
