// The hosts' part of the control API (`rig host`, and tests through the control socket):
// GET /hosts, POST /hosts/NAME/down|up, POST /hosts/NAME/partition|heal/OTHER.
import type http from 'node:http'
import type { Environment } from '../env/environment.ts'
import type { HostsState } from './host-network.ts'
import { ownerOf } from '../proxy/control-routes.ts'

/** The hosts' state; an environment without hosts has none. */
export function hostsState(env: Environment): HostsState | { hosts: [] } {
  return env.hosts?.state() ?? { hosts: [] }
}

/** Answers a hosts route, or returns undefined when `parts` is not one. */
export async function hostsRoute(env: Environment, req: http.IncomingMessage, parts: readonly string[]): Promise<unknown> {
  if (parts[0] !== 'hosts') return undefined
  if (parts.length === 1 && req.method === 'GET') return hostsState(env)
  if (req.method !== 'POST' || parts.length < 3) return undefined
  const name = decodeURIComponent(parts[1] ?? '')
  const h = env.host(name)
  // env.host() refused an environment without hosts: there is a network.
  const net = env.hosts as NonNullable<Environment['hosts']>
  const [action, other] = [parts[2], parts[3] === undefined ? undefined : decodeURIComponent(parts[3])]
  // What a test sets carries its worker (`?owner=`): its reset after the test undoes only that.
  const owner = ownerOf(req)
  if (action === 'down' && other === undefined) await net.down(name, owner)
  else if (action === 'up' && other === undefined) await h.up()
  else if (action === 'partition' && other !== undefined && parts.length === 4) await net.partition(name, other, owner)
  else return undefined
  return hostsState(env)
}
