// Checks `hosts`, `hostNetwork` and each service's `host` before anything starts: names, values,
// and the placements that cannot work (a hosted service behind rig's proxy, which listens in
// the root namespace only; a hosted service whose dependency listens on the root namespace's
// loopback, which no host reaches).
import { ConfigError } from '../errors.ts'
import { shown } from '../config/option-checks.ts'
import { suggest } from '../config/suggest.ts'
import { parseCidr } from './subnet.ts'

/** Options of one host. None yet: `{}`. */
export type HostOptions = Record<string, never>

/** The parts of a config the check reads. */
export interface HostsConfigInput {
  hosts?: unknown
  hostNetwork?: unknown
  services: Readonly<Record<string, { kind: { name: string; runsOnHosts?: boolean }; options: { host?: unknown } }>>
}

/** Host names become part of namespace names: a letter, then letters, digits and `-`. */
export const HOST_NAME = /^[A-Za-z][A-Za-z0-9-]{0,31}$/

/** The configured host names (after {@link checkHosts}). */
export function hostNames(config: { hosts?: unknown }): string[] {
  return typeof config.hosts === 'object' && config.hosts !== null ? Object.keys(config.hosts) : []
}

/**
 * Throws a ConfigError for hosts that cannot work. `dependsOn` gives each service's
 * dependencies, `proxied` whether a service has rig's proxy in front.
 */
export function checkHosts(config: HostsConfigInput, source: string, dependsOn: Readonly<Record<string, readonly string[]>>, proxied: (service: string) => boolean): void {
  const { hosts, hostNetwork } = config
  if (hosts !== undefined && (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts))) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source}: hosts must be an object of host names, e.g. hosts: { core1: {}, core2: {} }, got ${shown(hosts)}`)
  }
  for (const [name, opts] of Object.entries(hosts ?? {})) {
    if (!HOST_NAME.test(name)) throw new ConfigError('RIG_CONFIG_INVALID', `${source}: host name "${name}" must start with a letter and use only letters, digits and - (at most 32 characters)`)
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new ConfigError('RIG_CONFIG_INVALID', `${source}: host "${name}" must be an object (\`{}\`), got ${shown(opts)}`)
    const keys = Object.keys(opts)
    if (keys.length > 0) throw new ConfigError('RIG_CONFIG_UNKNOWN_KEY', `${source}: host "${name}": unknown option "${keys[0]}" (a host takes no options yet: write ${name}: {})`)
  }
  if (hostNetwork !== undefined) {
    const c = typeof hostNetwork === 'string' ? parseCidr(hostNetwork) : undefined
    if (!c || c.prefix < 8 || c.prefix > 24 || !String(hostNetwork).includes('/')) {
      throw new ConfigError('RIG_CONFIG_INVALID', `${source}: hostNetwork must be an IPv4 range from /8 to /24, e.g. "10.213.0.0/16" (each environment takes a free /24 of it), got ${shown(hostNetwork)}`)
    }
  }
  const names = hostNames(config)
  const hostOf = (s: string): string | undefined => config.services[s]?.options.host as string | undefined
  for (const [service, def] of Object.entries(config.services)) {
    const host = def.options.host
    if (host === undefined) continue
    const where = `service "${service}"`
    if (typeof host !== 'string' || host === '') throw new ConfigError('RIG_CONFIG_INVALID', `${where}: host must be the name of a host in \`hosts\`, got ${shown(host)}`)
    if (!names.includes(host)) {
      const s = suggest(host, names)
      throw new ConfigError(
        'RIG_UNKNOWN_HOST',
        names.length === 0
          ? `${where}: host "${host}" is not defined: add it to the config's hosts, e.g. hosts: { ${host}: {} }`
          : `${where}: unknown host "${host}"${s ? ` — did you mean "${s}"?` : ''} (hosts: ${names.join(', ')})`,
      )
    }
    if (!def.kind.runsOnHosts) throw new ConfigError('RIG_CONFIG_INVALID', `${where}: a ${def.kind.name} service cannot be placed on a host (postgres, redis and command can): remove \`host\``)
    if (proxied(service)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `${where} is on host "${host}" and behind rig's proxy (proxy, faults, or a partition in the config): a host's partition and loss are real, use host('${host}').partition(…) / .down() instead, and remove \`proxy\`/\`faults\``)
    }
    for (const dep of dependsOn[service] ?? []) {
      if (hostOf(dep) === undefined) {
        throw new ConfigError('RIG_CONFIG_INVALID', `${where} is on host "${host}" and depends on "${dep}", which is on no host: a host cannot reach the loopback address "${dep}" listens on; put "${dep}" on a host too (host: '…')`)
      }
    }
  }
}
