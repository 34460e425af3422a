// The names rig gives what it creates in the kernel, so that a sweep finds them again after a
// crash: a namespace `rig-<env id>-<host>`, a bridge `rig<hex of the /24>` whose alias names the
// environment, its ports `<bridge>h<n>`. An environment id carries its owner's pid.

/** A namespace's name for host `host` of environment `envId`. */
export function netnsName(envId: string, host: string): string {
  return `rig-${envId}-${host}`
}

/** Bridge name for the /24 starting at `base` (interface names have at most 15 characters). */
export function bridgeName(base: number): string {
  return `rig${(base >>> 8).toString(16).padStart(6, '0')}`
}

/** The bridge's port (root side of the veth pair) of the `index`th host. */
export function portName(bridge: string, index: number): string {
  return `${bridge}h${index}`
}

/** The alias a bridge carries: who owns it. */
export function bridgeAlias(envId: string): string {
  return `testrig ${envId}`
}

/** Bridges rig names. */
export const BRIDGE = /^rig[0-9a-f]{6}$/

/** `rig-<id>-<host>`: the environment id (`<time>-<pid>-<hex>`) and the host. */
export const NETNS = /^rig-([a-z0-9]+-(\d+)-[0-9a-f]+)-([A-Za-z][A-Za-z0-9-]*)$/

/** The pid of the process that owns environment `envId`. */
export function ownerPid(envId: string): number {
  return Number(envId.split('-')[1])
}
