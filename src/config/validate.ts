// Rejects a config that cannot work, before anything starts: unknown keys (with a
// suggestion), things that are not services, bad names and values, names that would share
// their env vars, unknown dependencies, cycles.
import { ConfigError, RigError } from '../errors.ts'
import { validateFixtures } from '../guard/fixtures.ts'
import { checkGraph, normaliseDependsOn } from '../env/graph.ts'
import { varName } from '../env/var-name.ts'
import { commonOptionKeys, type ServiceDefinition } from '../services/service-kind.ts'
import { Network } from '../proxy/network.ts'
import { checkFrontOptions, checkPublicOption } from '../front/plan.ts'
import { TOP_LEVEL_KEYS } from './defaults.ts'
import type { RigConfig } from './define-config.ts'
import { check, invalid } from './option-checks.ts'
import { suggest } from './suggest.ts'
import { checkVariants } from '../variants/check-variants.ts'
import { checkHosts } from '../hosts/check-hosts.ts'

/** What to say of `tls`/`ssl` asked of a kind that takes neither, or the other one. */
function tlsHint(key: string, allowed: readonly string[]): string {
  if (key !== 'tls' && key !== 'ssl') return ''
  if (allowed.includes('url')) return ': an external() service is reached over TLS through its URL (`rediss://…`, `?sslmode=verify-full`)'
  return ': rig serves TLS for postgres() (`ssl: true`), redis() (`tls: true`) and the front proxy (`front: { tls: true }`)'
}

function unknownKey(where: string, key: string, allowed: readonly string[]): ConfigError {
  const other = key === 'ssl' ? 'tls' : key === 'tls' ? 'ssl' : undefined
  const s = other && allowed.includes(other) ? other : suggest(key, allowed)
  return new ConfigError(
    'RIG_CONFIG_UNKNOWN_KEY',
    `${where}: unknown option "${key}"${s ? ` — did you mean "${s}"?` : tlsHint(key, allowed)} (allowed: ${allowed.join(', ')})`,
  )
}

function isDefinition(v: unknown): v is ServiceDefinition {
  const d = v as ServiceDefinition | undefined
  return typeof d === 'object' && d !== null && typeof d.kind?.start === 'function' && typeof d.options === 'object' && d.options !== null
}

const isProbe = (p: unknown): boolean => typeof p === 'object' && p !== null && typeof (p as { run?: unknown }).run === 'function'

/** Checks the options every kind shares, then the kind's own. */
function validateOptions(name: string, def: ServiceDefinition): void {
  const where = `service "${name}" (${def.kind.name})`
  const allowed = [...commonOptionKeys, ...def.kind.optionKeys]
  for (const key of Object.keys(def.options)) if (!allowed.includes(key)) throw unknownKey(where, key, allowed)
  const { readyTimeout, port, dependsOn, ready } = def.options
  check.ms(`service "${name}"`, 'readyTimeout', readyTimeout, true)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) invalid(`service "${name}"`, 'port', 'an integer from 1 to 65535', port)
  // A bare string would be spread into { 0: 'd', 1: 'b' } and reported as unknown services "0", "1".
  if (dependsOn !== undefined && (typeof dependsOn !== 'object' || dependsOn === null)) {
    throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": dependsOn must be a list of service names or { name: condition }, got ${JSON.stringify(dependsOn)}: write dependsOn: [${JSON.stringify(dependsOn)}]`)
  }
  if (Array.isArray(dependsOn)) check.stringArray(`service "${name}"`, 'dependsOn', dependsOn)
  if (ready !== undefined && !(Array.isArray(ready) ? ready.every(isProbe) : isProbe(ready))) {
    invalid(`service "${name}"`, 'ready', 'a probe such as http(\'/health\') or tcp(), or a list of them', ready)
  }
  checkPublicOption(name, def)
  def.kind.validate?.(def.options, where)
}

/** Two names that differ only in case or in `-`/`_` would silently share RIG_<NAME>_URL. */
function checkVarCollisions(names: readonly string[]): void {
  const seen = new Map<string, string>()
  for (const name of names) {
    const v = varName(name, 'URL')
    const other = seen.get(v)
    if (other !== undefined) {
      throw new ConfigError('RIG_CONFIG_NAME_COLLISION', `services "${other}" and "${name}" would both export ${v} (names differing only in case, "-" or "_" share their env vars): rename one of them`)
    }
    seen.set(v, name)
  }
}

/** Validates a loaded config and returns its start order. Throws {@link ConfigError}. */
export function validateConfig(config: unknown, source = 'config'): string[] {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source} must export a config object: export default defineConfig({ services: { ... } })`)
  }
  for (const key of Object.keys(config)) if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) throw unknownKey(source, key, TOP_LEVEL_KEYS)
  const { services, readyTimeout, logsDir } = config as RigConfig
  check.ms(source, 'readyTimeout', readyTimeout, true)
  check.string(source, 'logsDir', logsDir)
  checkFrontOptions(source, (config as RigConfig).project, (config as RigConfig).front)
  if (typeof services !== 'object' || services === null || Array.isArray(services) || Object.keys(services).length === 0) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${source} has no services: add some, e.g. services: { db: postgres() }`)
  }
  const graph: Record<string, ReturnType<typeof normaliseDependsOn>> = Object.create(null)
  for (const [name, def] of Object.entries(services)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service name "${name}" must start with a letter and use only letters, digits, - and _ (it becomes RIG_${name.toUpperCase()}_URL)`)
    }
    if (!isDefinition(def)) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}" is not a service definition: use postgres(), redis(), command({ run }) or external({ url })`)
    }
    validateOptions(name, def)
    graph[name] = normaliseDependsOn(def.options.dependsOn)
  }
  checkVarCollisions(Object.keys(services))
  const { fixtures } = config as RigConfig
  if (fixtures !== undefined) {
    try {
      validateFixtures(fixtures, source, Object.keys(services))
    } catch (err) {
      throw err instanceof RigError ? new ConfigError('RIG_CONFIG_INVALID', err.message) : err
    }
  }
  checkVariants(config as RigConfig, source, validateOptions)
  const order = checkGraph(graph)
  // Proxies and faults from the start: values, and the services partitions and `from` name.
  const dependsOn = Object.fromEntries(Object.entries(graph).map(([n, d]) => [n, Object.keys(d)]))
  const network = new Network({ services, dependsOn })
  checkHosts(config as RigConfig, source, dependsOn, (name) => network.get(name) !== undefined)
  return order
}
