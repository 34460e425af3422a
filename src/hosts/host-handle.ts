// A host as code that holds the environment sees it: `env.host('core1').down()`. The worker side
// of tests has its own twin (test-hosts.ts) that goes through the control socket.
import type { HostNetwork } from './host-network.ts'

/** One host's controls. */
export interface HostHandle {
  readonly name: string
  /** Its address, e.g. `10.213.7.2`: what the URLs of its services use. */
  readonly address: string
  /** The network namespace its services run in. */
  readonly netns: string
  /** Node loss: the host's link goes down; nothing reaches it, it reaches nothing. Its processes keep running. */
  down(): Promise<void>
  /** The link comes back. */
  up(): Promise<void>
  /** This host and `other` can no longer reach each other; both stay reachable from the test process. */
  partition(other: string): Promise<void>
  /** Ends the partition with `other`. */
  heal(other: string): Promise<void>
}

/** The handle of host `name` of `net` (throws for an unknown name). */
export function hostHandle(net: HostNetwork, name: string): HostHandle {
  const { address, netns } = net.get(name)
  return {
    name,
    address,
    netns,
    down: async () => void (await net.down(name)),
    up: async () => void (await net.up(name)),
    partition: async (other) => void (await net.partition(name, other)),
    heal: async (other) => void (await net.heal(name, other)),
  }
}
