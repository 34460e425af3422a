// Validation of `variants` (called by validateConfig): every name, every service an overlay
// names, every option key it sets, and each variant's services as a whole, before anything
// starts.
import { ConfigError } from '../errors.ts'
import type { RigConfig } from '../config/define-config.ts'
import { suggest } from '../config/suggest.ts'
import { commonOptionKeys, type ServiceDefinition } from '../services/service-kind.ts'
import { checkFrontOptions } from '../front/plan.ts'
import { applyVariant, isDefinition } from './variants.ts'

const bad = (message: string): ConfigError => new ConfigError('RIG_CONFIG_INVALID', message)

/**
 * Checks `variants`; `checkService` is the validation every service gets (run on the variant's
 * merged services, so a bad value in an overlay is reported like one in the service itself).
 */
export function checkVariants(config: RigConfig, source: string, checkService: (name: string, def: ServiceDefinition) => void): void {
  const variants = config.variants as unknown
  if (variants === undefined) return
  if (typeof variants !== 'object' || variants === null || Array.isArray(variants)) throw bad(`${source}: variants must be an object of named overlays, e.g. variants: { de: { env: { APP_LOCALE: 'de' } } }`)
  const services = Object.keys(config.services)
  for (const [name, v] of Object.entries(variants)) {
    const where = `${source}: variant "${name}"`
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw bad(`${where}: a variant name uses letters, digits, ".", "-" and "_" (it names report directories and matrix columns)`)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${where} must be an object: { services?: { NAME: options }, env?: { VAR: 'value' } }`)
    for (const key of Object.keys(v)) {
      if (key !== 'services' && key !== 'env' && key !== 'front') {
        const near = suggest(key, ['services', 'env', 'front'])
        throw bad(`${where}: unknown key "${key}"${near ? ` — did you mean "${near}"?` : ''} (allowed: services, env, front)`)
      }
    }
    const { services: overlays, env, front } = v as { services?: unknown; env?: unknown; front?: unknown }
    checkFrontOptions(where, undefined, front)
    if (env !== undefined) {
      if (typeof env !== 'object' || env === null || Array.isArray(env)) throw bad(`${where}: env must be an object of strings, e.g. { APP_LOCALE: 'de' }`)
      for (const [k, value] of Object.entries(env)) if (typeof value !== 'string') throw bad(`${where}: env.${k} must be a string, got ${JSON.stringify(value)}`)
    }
    if (overlays === undefined) continue
    if (typeof overlays !== 'object' || overlays === null || Array.isArray(overlays)) throw bad(`${where}: services must be an object of { SERVICE: options }`)
    for (const [s, overlay] of Object.entries(overlays)) {
      const def = Object.hasOwn(config.services, s) ? config.services[s] : undefined
      if (!def) {
        const near = suggest(s, services)
        throw bad(`${where}: service "${s}" is not in services${near ? ` — did you mean "${near}"?` : ''} (services: ${services.join(', ')}); a variant changes services, it does not add them`)
      }
      if (isDefinition(overlay)) continue
      if (typeof overlay !== 'object' || overlay === null || Array.isArray(overlay)) throw bad(`${where}: services.${s} must be options to merge (e.g. { settings: { … } }) or a definition such as mariadb()`)
      const allowed = [...commonOptionKeys, ...def.kind.optionKeys]
      for (const key of Object.keys(overlay)) {
        if (!allowed.includes(key)) {
          const near = suggest(key, allowed)
          throw bad(`${where}: service "${s}" (${def.kind.name}): unknown option "${key}"${near ? ` — did you mean "${near}"?` : ''} (allowed: ${allowed.join(', ')})`)
        }
      }
    }
    const applied = applyVariant(config, name)
    for (const [s, def] of Object.entries(applied.services)) {
      try {
        checkService(s, def)
      } catch (err) {
        throw bad(`${where}: ${(err as Error).message}`)
      }
    }
  }
}
