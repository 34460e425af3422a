// Several variants in one run of the test runner: `rig({ variants: ['en', 'de'] })`,
// `rig({ variants: true })` (every variant of rig.config.ts) or `RIG_VARIANT=en,de`. The Vitest
// plugin makes one project per variant, each with its own environment and report.
import { ConfigError } from '../errors.ts'
import type { RigConfig } from '../config/define-config.ts'
import { assertVariant, variantNames } from './variants.ts'

/** What a run asks for: one variant (or none), or several. */
export type VariantSelection = { several: false; name: string | undefined } | { several: true; names: string[] | 'all' }

/**
 * The selection from `RIG_VARIANT` (one name, or names separated by commas; it wins) and the
 * plugin's `variants` option.
 */
export function variantSelection(option: readonly string[] | boolean | undefined, env: string | undefined): VariantSelection {
  const fromEnv = (env ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
  if (fromEnv.length === 1) return { several: false, name: fromEnv[0] }
  if (fromEnv.length > 1) return { several: true, names: [...new Set(fromEnv)] }
  if (option === undefined || option === false) return { several: false, name: undefined }
  if (option === true) return { several: true, names: 'all' }
  if (!Array.isArray(option) || option.length === 0 || !option.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError('RIG_CONFIG_INVALID', `rig({ variants }) must be true (every variant of rig.config.ts) or a non-empty list of variant names, e.g. ['en', 'de'], got ${JSON.stringify(option)}`)
  }
  return { several: true, names: [...new Set(option)] }
}

/** The names a selection of several stands for, each checked against `config` (a clear error for an unknown one). */
export function resolveSelection(config: RigConfig, names: string[] | 'all', source: string): string[] {
  if (names === 'all') {
    const all = variantNames(config)
    if (all.length === 0) throw new ConfigError('RIG_VARIANT_UNKNOWN', `${source}: rig.config.ts has no variants to run (add variants: { en: {}, de: { env: { … } } })`)
    return all
  }
  for (const n of names) assertVariant(config, n, source)
  return names
}

/**
 * Runs `fn` with `RIG_VARIANT=name` and puts `process.env` back as it was afterwards: the
 * config loader applies the variant and sets its env, which the services started meanwhile
 * inherit; the next variant must not.
 */
export async function withVariantEnv<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const before = { ...process.env }
  process.env.RIG_VARIANT = name
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in before)) delete process.env[k]
    Object.assign(process.env, before)
  }
}
