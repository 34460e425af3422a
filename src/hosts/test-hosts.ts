// Worker side: a host as a test drives it (`host('core1').down()`, `.partition('core2')`),
// through the environment's control socket. What a test did is test state, like a fault: the
// test session brings every host up and heals every partition after the test, and the report
// lists it under the test.
import { controlRequest } from '../env/control-client.ts'
import { RigError } from '../errors.ts'
import { owned, setByTest } from '../proxy/test-faults.ts'

/** A host's controls in a test. */
export interface TestHost {
  readonly name: string
  /** Node loss: its link goes down (nothing reaches it, it reaches nothing); its processes keep running. Undone after the test. */
  down(): Promise<void>
  /** Its link comes back. */
  up(): Promise<void>
  /** This host and `other` can no longer reach each other; the test still reaches both. Healed after the test. */
  partition(other: string): Promise<void>
  /** Ends the partition with `other`. */
  heal(other: string): Promise<void>
}

/** The controls of host `name`; `socket()` gives the environment's control socket. */
export function hostControls(name: string, socket: () => string | undefined): TestHost {
  const post = async (path: string, note: string): Promise<void> => {
    // Noted first: a request that fails half-way still gets the hosts put back after the test.
    setByTest.push(note)
    const s = socket()
    if (!s) throw new RigError('RIG_NO_CONTROL', `cannot change host "${name}": the environment has no control socket`)
    await controlRequest(s, 'POST', owned(`/hosts/${encodeURIComponent(name)}/${path}`), 10_000)
  }
  return {
    name,
    down: () => post('down', `host ${name}: down`),
    up: () => post('up', `host ${name}: up`),
    partition: (other) => post(`partition/${encodeURIComponent(other)}`, `hosts ${name} ✕ ${other}: partitioned`),
    heal: (other) => post(`heal/${encodeURIComponent(other)}`, `hosts ${name} ✕ ${other}: healed`),
  }
}
