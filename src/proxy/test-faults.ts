// Worker side: faults as a test sets them (`service('db').fault({ latency: 200 })`,
// `.proxy.hold()`, `clearFaults()`), through the environment's control socket. What a test set
// is test state: the test session puts the network back after the test and lists it in the report.
import { threadId } from 'node:worker_threads'
import { controlRequest } from '../env/control-client.ts'
import { RigError } from '../errors.ts'
import { changedByTest } from '../runner/worker.ts'
import { describeFaults, type Faults } from './faults.ts'

/** What a test did to the network, in order, e.g. `db: latency 200ms` (kept by the worker, which the test session reads without loading this module). */
export const setByTest: string[] = changedByTest.faults

/**
 * This test worker, as the environment knows what it set (`?owner=`): its process and thread,
 * the same in every copy of this module a worker loads. The reset after a test removes only what
 * this worker set, so a test ending in one worker leaves a fault another worker's test set alone.
 */
export const OWNER = `${process.pid}.${threadId}`

/** `path` with this worker as its owner. */
export function owned(path: string): string {
  return `${path}?owner=${OWNER}`
}

/** The proxy controls of one service, as a test sees them. */
export interface TestProxy {
  /** New connections wait until {@link resume}; open ones go on. */
  hold(): Promise<void>
  /** New connections are reset at once; open ones go on. */
  refuse(): Promise<void>
  /** New connections go through again (held ones too). */
  resume(): Promise<void>
}

/** The fault controls of a service handle. */
export interface FaultControls {
  /** Adds network faults on the traffic to this service (it needs `proxy: true` or `faults` in rig.config.ts). Removed after the test. */
  fault(faults: Faults): Promise<void>
  /** Back to the faults of rig.config.ts for this service (and its partitions). */
  clearFaults(): Promise<void>
  /** The maintenance switch of the service's proxy. */
  proxy: TestProxy
}

function socketOr(socket: string | undefined, what: string): string {
  if (!socket) throw new RigError('RIG_NO_CONTROL', `cannot ${what}: the environment has no control socket`)
  return socket
}

/** The controls of service `name`; `socket()` gives the environment's control socket. */
export function faultControls(name: string, socket: () => string | undefined): FaultControls {
  const base = `/services/${encodeURIComponent(name)}`
  const post = async (path: string, note: string, body?: unknown): Promise<void> => {
    // Noted first: a request that fails half-way still gets the network put back after the test.
    setByTest.push(`${name}: ${note}`)
    await controlRequest(socketOr(socket(), `${note} on "${name}"`), 'POST', owned(`${base}${path}`), 10_000, body)
  }
  return {
    fault: (faults) => post('/fault', describeFaults(faults), faults),
    clearFaults: () => post('/faults/clear', 'cleared'),
    proxy: {
      hold: () => post('/proxy/hold', 'new connections held'),
      refuse: () => post('/proxy/refuse', 'new connections refused'),
      resume: () => post('/proxy/resume', 'new connections resumed'),
    },
  }
}

/** What this test set so far removed: every service back to the faults of rig.config.ts unless another worker's test or the CLI set some. */
export async function clearAllFaults(socket: string | undefined): Promise<void> {
  setByTest.push('every service: cleared')
  await controlRequest(socketOr(socket, 'clear faults'), 'POST', owned('/faults/reset'), 10_000)
}

/**
 * After a test: when it touched the network, removes what it set (faults, partitions, switches,
 * hosts) and returns what it did (for the report); otherwise costs nothing and returns undefined.
 */
export async function resetAfterTest(socket: string | undefined): Promise<string[] | undefined> {
  if (setByTest.length === 0) return undefined
  const done = setByTest.splice(0)
  if (socket) await controlRequest(socket, 'POST', owned('/faults/reset'), 10_000)
  return done
}
