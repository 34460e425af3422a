// Variants: named overlays of rig.config.ts (`variants: { de: { services: { db: { … } }, env } }`)
// for running one suite against several configurations: a language, per-instance parameters,
// one implementation of a system replaced by another. `RIG_VARIANT` selects one; the config
// loader applies it, so `rig up`, `rig run` and the test runners all see the same services.
import { ConfigError } from '../errors.ts'
import type { RigConfig } from '../config/define-config.ts'
import type { FrontOption } from '../front/plan.ts'
import { suggest } from '../config/suggest.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'

/** One variant: options merged over services (or definitions that replace them), and env vars. */
export interface Variant {
  /**
   * Per service: options merged over its own (plain objects merged key by key, anything else
   * replaced), e.g. `{ db: { settings: { lc_messages: 'de_DE.UTF-8' } } }`; or a whole
   * definition that replaces it, e.g. `{ db: mariadb() }`.
   */
  services?: Record<string, object>
  /** Env vars set for the services rig starts and for the tests, e.g. `{ APP_LOCALE: 'de' }`. */
  env?: Record<string, string>
  /**
   * The front proxy in this variant: `{ tls: true }` (HTTPS public URLs), `true`, `false`;
   * merged over the config's `front` (its port kept), e.g. for a production-like run.
   */
  front?: FrontOption
}

/** Whether `v` is a service definition (a factory's result) rather than options. */
export const isDefinition = (v: unknown): v is ServiceDefinition => typeof v === 'object' && v !== null && typeof (v as ServiceDefinition).kind?.start === 'function' && typeof (v as ServiceDefinition).options === 'object'

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

/** `overlay` merged over `base`: plain objects key by key, anything else replaced. */
export function mergeOptions(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(overlay)) {
    const b = out[k]
    out[k] = isPlain(b) && isPlain(v) ? mergeOptions(b, v) : v
  }
  return out
}

/** The variants of a config, in their order. */
export function variantNames(config: RigConfig): string[] {
  return Object.keys(config.variants ?? {})
}

/** Throws a clear error unless `name` is a variant of `config`. */
export function assertVariant(config: RigConfig, name: string, source: string): Variant {
  const names = variantNames(config)
  const v = Object.hasOwn(config.variants ?? {}, name) ? config.variants?.[name] : undefined
  if (v) return v
  const near = suggest(name, names)
  throw new ConfigError(
    'RIG_VARIANT_UNKNOWN',
    names.length === 0 ? `${source}: variant "${name}" asked for, but rig.config.ts has no variants (add variants: { ${name}: { services: { … }, env: { … } } })` : `${source}: unknown variant "${name}"${near ? ` — did you mean "${near}"?` : ''} (variants: ${names.join(', ')})`,
  )
}

/** The config with variant `name` applied: its services overlaid, its env recorded. */
export function applyVariant(config: RigConfig, name: string, source = 'RIG_VARIANT'): RigConfig {
  const v = assertVariant(config, name, source)
  const services: Record<string, ServiceDefinition> = { ...config.services }
  for (const [s, overlay] of Object.entries(v.services ?? {})) {
    const base = services[s]
    if (!base) continue
    services[s] = isDefinition(overlay) ? overlay : { kind: base.kind, options: mergeOptions(base.options as Record<string, unknown>, overlay as Record<string, unknown>) as ServiceDefinition['options'] }
  }
  return v.front === undefined ? { ...config, services } : { ...config, services, front: mergeFront(config.front, v.front) }
}

/** A variant's `front` over the config's: objects merged, `true` keeps the config's settings, `false` turns it off. */
export function mergeFront(base: FrontOption | undefined, overlay: FrontOption): FrontOption {
  if (overlay === false) return false
  const b = typeof base === 'object' ? base : {}
  return overlay === true ? (typeof base === 'object' ? base : true) : { ...b, ...overlay }
}
