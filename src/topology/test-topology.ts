// Worker side: role changes as a test asks for them (`service('db').failover()`), through the
// environment's control socket. Roles are not test state (moving them back would cost a
// switchover per test): each change is listed in the report under the test that made it.
import { controlRequest } from '../env/control-client.ts'
import { RigError } from '../errors.ts'
import type { RoleChangeResult, TopologyState } from './control-routes.ts'
import type { RoleChange, RoleChangeOptions } from './topology.ts'
import { changedByTest } from '../runner/worker.ts'

/** The role changes the current test made, e.g. `db: failover: node 0 killed, node 1 promoted (412 ms)`. */
export const rolesChangedByTest: string[] = changedByTest.roles

/** A role change can wait for a replica to catch up (30 s) and a restart. */
const ROLE_CHANGE_MS = 120_000

/** The role controls of a service handle (a service with replicas). */
export interface TopologyControls {
  /** Its members, their roles and addresses, and the changes since the start. */
  topology(): Promise<TopologyState>
  /** Promotes replica `node` once the primary is gone (killed: `kill()`); refused while a primary runs. */
  promote(node: number, options?: Pick<RoleChangeOptions, 'during'>): Promise<RoleChangeResult>
  /** A clean role swap: the primary stops, a caught-up replica is promoted, the old primary follows it as a replica. */
  switchover(options?: RoleChangeOptions): Promise<RoleChangeResult>
  /** A node that went down comes back as a replica of the current primary (pg_rewind, or a fresh copy). */
  rejoin(node?: number): Promise<RoleChangeResult>
}

/**
 * The role controls of service `name`; `socket()` gives the environment's control socket,
 * `expectLog` declares the lines a role change makes the members log.
 */
export function topologyControls(name: string, socket: () => string | undefined, expectLog: (service: string, pattern: RegExp) => void): TopologyControls {
  const base = `/services/${encodeURIComponent(name)}/topology`
  const at = (what: string): string => {
    const s = socket()
    if (!s) throw new RigError('RIG_NO_CONTROL', `cannot ${what} "${name}": the environment has no control socket`)
    return s
  }
  const change = async (op: string, body: Record<string, unknown>): Promise<RoleChangeResult> => {
    const result = await controlRequest<RoleChangeResult>(at(op), 'POST', `${base}/${op}`, ROLE_CHANGE_MS, body)
    noteRoleChange(name, result.change, expectLog)
    return result
  }
  return {
    topology: () => controlRequest<TopologyState>(at('read the topology of'), 'GET', base),
    promote: (node, options = {}) => change('promote', { node, ...options }),
    switchover: (options = {}) => change('switchover', { ...options }),
    rejoin: (node) => change('rejoin', node === undefined ? {} : { node }),
  }
}

/** Records a role change a test made (for the report) and expects the lines it makes the members log. */
export function noteRoleChange(name: string, change: RoleChange, expectLog: (service: string, pattern: RegExp) => void): void {
  rolesChangedByTest.push(`${name}: ${change.text} (${change.ms} ms)`)
  // The lines members log because roles changed are the change's, not errors of the test.
  if (change.logs) expectLog(name, new RegExp(change.logs))
}

/** A role change can wait for a replica to catch up (30 s) and a restart. */
export const ROLE_CHANGE_TIMEOUT_MS = ROLE_CHANGE_MS

/** After a test: the role changes it made (for the report), or undefined. */
export function takeRoleChanges(): string[] | undefined {
  return rolesChangedByTest.length === 0 ? undefined : rolesChangedByTest.splice(0)
}
