// `rig.checks.ts`: the optional file beside rig.config.ts that says where check files are,
// which targets exist and what each tier may spend. All keys optional; defaults live here.
import type { Tier } from './runner.ts'
import { CheckConfigError } from './errors.ts'

/** Env values of one target; undefined values (an unset `process.env.X`) are left out. */
export type TargetValues = Readonly<Record<string, string | undefined>>

/** The content of `rig.checks.ts`. */
export interface ChecksConfig {
  /**
   * Globs of check files, relative to the project root.
   * @default ['checks/**\/*.check.ts']
   */
  include?: readonly string[]
  /** Named targets (`rig check --target staging`) and the env values checks see there. */
  targets?: Readonly<Record<string, TargetValues>>
  /**
   * Time budget per tag, counted from the start of the run.
   * @default { smoke: { budget: 5000 }, diagnostic: { budget: 60000 } }
   */
  tiers?: Readonly<Record<string, Tier>>
  /** @default 16 */
  concurrency?: number
  /** Timeout of a check without one, in ms. @default 5000 */
  defaultTimeout?: number
  /** How long `rig serve` reuses a result, in ms. @default 10000 */
  ttl?: number
}

/** File name of the checks config, looked up in the project root. */
export const CHECKS_CONFIG_FILE = 'rig.checks.ts'

/** Defaults of {@link ChecksConfig}. */
export const CHECK_DEFAULTS = {
  include: ['checks/**/*.check.ts'],
  tiers: { smoke: { budget: 5000 }, diagnostic: { budget: 60_000 } },
  ttl: 10_000,
} as const

/** Returns its argument, typed: `export default defineChecks({ targets: { … } })`. */
export function defineChecks(config: ChecksConfig): ChecksConfig {
  return config
}

const KEYS = ['include', 'targets', 'tiers', 'concurrency', 'defaultTimeout', 'ttl']

/** Throws a CheckConfigError naming the first thing wrong with `value`. */
export function validateChecksConfig(value: unknown, file: string): ChecksConfig {
  const bad = (what: string): never => {
    throw new CheckConfigError('RIG_CHECKS_CONFIG_INVALID', `${file}: ${what}`)
  }
  if (!value || typeof value !== 'object') bad('export default defineChecks({ ... })')
  const c = value as Record<string, unknown>
  for (const k of Object.keys(c)) if (!KEYS.includes(k)) bad(`unknown key "${k}" (known: ${KEYS.join(', ')})`)
  if (c.include !== undefined && (!Array.isArray(c.include) || c.include.some((g) => typeof g !== 'string'))) bad('include must be a list of globs')
  for (const k of ['concurrency', 'defaultTimeout', 'ttl']) if (c[k] !== undefined && !(typeof c[k] === 'number' && c[k] >= 0)) bad(`${k} must be a number ≥ 0`)
  for (const [name, t] of Object.entries((c.targets ?? {}) as Record<string, unknown>)) {
    if (!t || typeof t !== 'object') bad(`target "${name}" must be an object of env values`)
    for (const [k, v] of Object.entries(t as object)) if (v !== undefined && typeof v !== 'string') bad(`target "${name}": ${k} must be a string`)
  }
  for (const [name, t] of Object.entries((c.tiers ?? {}) as Record<string, unknown>)) {
    const budget = (t as { budget?: unknown } | undefined)?.budget
    if (typeof budget !== 'number' || !(budget > 0)) bad(`tier "${name}" needs a budget in ms > 0`)
  }
  return c as ChecksConfig
}

/** The env values of `target`; an unknown target is a usage error listing the known ones. */
export function targetValues(config: ChecksConfig, target: string, file: string): Record<string, string> {
  const targets = config.targets ?? {}
  const values = targets[target]
  if (!values) {
    const known = Object.keys(targets)
    throw new CheckConfigError(
      'RIG_CHECK_UNKNOWN_TARGET',
      known.length > 0 ? `unknown target "${target}": ${file} defines ${known.join(', ')}` : `unknown target "${target}": no targets are defined. Add them to ${file}:\n  export default defineChecks({ targets: { ${target}: { API_URL: 'https://…' } } })`,
    )
  }
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined))
}
