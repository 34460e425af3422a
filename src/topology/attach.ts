// The environment's side of a topology: role addresses through rig's proxy (the service's own
// proxy is its primary's, `<name>.replica` a replica's), kept on the members that hold the roles,
// the maintenance switch while they change, and the variables that name them.
import type { StartedService } from '../env/started-service.ts'
import { varName } from '../env/var-name.ts'
import type { Network } from '../proxy/network.ts'
import { readdress } from '../proxy/readdress.ts'
import type { Topology } from './topology.ts'

/**
 * Points the role addresses of `svc` at its members and keeps them there; returns the
 * variables it exports besides its own (`_PRIMARY_URL`, `_REPLICA_URL`, `_REPLICA_<n>_URL`…).
 */
export async function attachTopology(svc: StartedService, topology: Topology, network: Network): Promise<Record<string, string>> {
  const primary = network.get(svc.name)
  const outside = primary?.outside
  if (!primary || !outside) throw new Error(`service "${svc.name}" has replicas but no proxy for its roles`)
  const replica = await network.openRole(svc.name, 'replica')
  const replicaAt = replica.outside
  const follow = (): void => {
    const p = topology.primary()
    if (p) primary.retarget(p.host, p.port)
    const r = topology.readTarget()
    if (r) replica.retarget(r.host, r.port)
  }
  follow()
  topology.onSwitch((phase, during) => {
    if (phase === 'switching') return primary.setMode(during)
    follow()
    if (phase === 'moved') return
    svc.follow(topology.primaryProcess())
    primary.setMode('open')
  })
  // Tests, the guard and dependents reach the primary through its address, wherever it is.
  const direct = { host: svc.host, port: svc.port }
  const url = readdress(svc.url, direct, outside)
  Object.assign(svc, { url, host: outside.host, port: outside.port })
  const env: Record<string, string> = {
    [varName(svc.name, 'PRIMARY_URL')]: url,
    [varName(svc.name, 'PRIMARY_HOST')]: outside.host,
    [varName(svc.name, 'PRIMARY_PORT')]: String(outside.port),
  }
  if (replicaAt) {
    env[varName(svc.name, 'REPLICA_URL')] = readdress(url, outside, replicaAt)
    env[varName(svc.name, 'REPLICA_HOST')] = replicaAt.host
    env[varName(svc.name, 'REPLICA_PORT')] = String(replicaAt.port)
  }
  for (const n of topology.nodes()) {
    if (n.node === 0) continue
    env[varName(svc.name, `REPLICA_${n.node}_URL`)] = n.url
    env[varName(svc.name, `REPLICA_${n.node}_HOST`)] = n.host
    env[varName(svc.name, `REPLICA_${n.node}_PORT`)] = String(n.port)
  }
  return env
}
