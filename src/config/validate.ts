// Rejects a config that cannot work, before anything starts: unknown keys (with a
// suggestion), things that are not services, bad names, unknown dependencies, cycles.
import { ConfigError, RigError } from '../errors.ts'
import { validateFixtures } from '../guard/fixtures.ts'
import { checkGraph, normaliseDependsOn } from '../env/graph.ts'
import { commonOptionKeys, type ServiceDefinition } from '../services/service-kind.ts'
import { TOP_LEVEL_KEYS } from './defaults.ts'
import type { RigConfig } from './define-config.ts'
import { suggest } from './suggest.ts'

function unknownKey(where: string, key: string, allowed: readonly string[]): ConfigError {
  const s = suggest(key, allowed)
  return new ConfigError(
    'RIG_CONFIG_UNKNOWN_KEY',
    `${where}: unknown option "${key}"${s ? ` — did you mean "${s}"?` : ''} (allowed: ${allowed.join(', ')})`,
  )
}

function isDefinition(v: unknown): v is ServiceDefinition {
  const d = v as ServiceDefinition | undefined
  return typeof d === 'object' && d !== null && typeof d.kind?.start === 'function' && typeof d.options === 'object'
}

/** Validates a loaded config and returns its start order. Throws {@link ConfigError}. */
export function validateConfig(config: unknown, source = 'config'): string[] {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source} must export a config object: export default defineConfig({ services: { ... } })`)
  }
  for (const key of Object.keys(config)) if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) throw unknownKey(source, key, TOP_LEVEL_KEYS)
  const { services, readyTimeout: defaultTimeout } = config as RigConfig
  if (defaultTimeout !== undefined && !(typeof defaultTimeout === 'number' && defaultTimeout > 0)) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source}: readyTimeout must be a positive number of ms, got ${JSON.stringify(defaultTimeout)}`)
  }
  if (typeof services !== 'object' || services === null || Object.keys(services).length === 0) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source} has no services: add some, e.g. services: { db: postgres() }`)
  }
  const graph: Record<string, ReturnType<typeof normaliseDependsOn>> = {}
  for (const [name, def] of Object.entries(services)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service name "${name}" must start with a letter and use only letters, digits, - and _ (it becomes RIG_${name.toUpperCase()}_URL)`)
    }
    if (!isDefinition(def)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}" is not a service definition: use postgres(), redis(), command({ run }) or external({ url })`)
    }
    const allowed = [...commonOptionKeys, ...def.kind.optionKeys]
    for (const key of Object.keys(def.options)) if (!allowed.includes(key)) throw unknownKey(`service "${name}" (${def.kind.name})`, key, allowed)
    const { readyTimeout, port } = def.options
    if (readyTimeout !== undefined && !(typeof readyTimeout === 'number' && readyTimeout > 0)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": readyTimeout must be a positive number of ms, got ${JSON.stringify(readyTimeout)}`)
    }
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`)
    }
    const { dependsOn } = def.options
    // A bare string would be spread into { 0: 'd', 1: 'b' } and reported as unknown services "0", "1".
    if (dependsOn !== undefined && (typeof dependsOn !== 'object' || dependsOn === null)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": dependsOn must be a list of service names or { name: condition }, got ${JSON.stringify(dependsOn)}: write dependsOn: [${JSON.stringify(dependsOn)}]`)
    }
    graph[name] = normaliseDependsOn(dependsOn)
  }
  const { fixtures } = config as RigConfig
  if (fixtures !== undefined) {
    try {
      validateFixtures(fixtures, source, Object.keys(services))
    } catch (err) {
      throw err instanceof RigError ? new ConfigError('RIG_CONFIG_INVALID', err.message) : err
    }
  }
  return checkGraph(graph)
}
