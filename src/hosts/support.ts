// Whether this machine lets rig make hosts: network namespaces need root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN) and iproute2. Without them the proxy is the way to cut connections.
import fs from 'node:fs'
import { RigError } from '../errors.ts'
import { ipBinary } from './ip.ts'

/**
 * Why hosts cannot be made here, or undefined when they can. `RIG_NO_NETNS=1` answers as a
 * machine without them would (to run a suite the way an unprivileged CI job does).
 */
export function hostsUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.RIG_NO_NETNS === '1') return 'RIG_NO_NETNS=1 is set'
  const uid = process.getuid?.()
  if (uid !== 0) return `rig runs as ${uid === undefined ? 'a user without uid (not Linux)' : `uid ${uid}`}, not as root`
  if (!fs.existsSync('/proc/self/ns/net')) return 'this kernel has no network namespaces'
  if (!ipBinary()) return 'iproute2 (`ip`) is not installed (apt-get install iproute2)'
  return undefined
}

/** Hosts were asked for where they cannot be made. */
export class HostsUnsupportedError extends RigError {
  constructor(hosts: readonly string[], reason: string) {
    super(
      'RIG_HOSTS_UNSUPPORTED',
      `hosts (${hosts.join(', ')}) are network namespaces, which rig cannot make here: ${reason}.\n` +
        '  run as root on a machine with iproute2 (`ip netns`), or\n' +
        "  take `hosts` and `host` out of rig.config.ts and use rig's proxy instead: `proxy: true` on the services,\n" +
        "  `service('api').fault({ partition: 'db' })` in tests (docs/topology.md: \"The proxy\"; \"Real hosts\" says what differs)",
      { exitCode: 2 },
    )
    this.name = 'HostsUnsupportedError'
  }
}

/** Throws {@link HostsUnsupportedError} when hosts cannot be made here. */
export function assertHostsSupported(hosts: readonly string[]): void {
  const reason = hostsUnavailable()
  if (reason) throw new HostsUnsupportedError(hosts, reason)
}
