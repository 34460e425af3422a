// Finds and imports rig.config.ts; Node runs the TypeScript directly.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.ts'
import { findConfigFile } from './find-config.ts'
import { describeLoadError } from './load-error.ts'
import type { RigConfig } from './define-config.ts'
import { validateConfig } from './validate.ts'
import { applyVariant } from '../variants/variants.ts'

export { findConfigFile }

/** A loaded, validated config and where it came from. */
export interface LoadedConfig {
  config: RigConfig
  /** Absolute path of the config file. */
  file: string
  /** Its directory: relative paths and `.rig/` are resolved against it. */
  root: string
  /** The variant applied (`RIG_VARIANT`), if any. */
  variant?: string
}

/** Loads and validates the config; `variant` (default `RIG_VARIANT`; `''` for none) is applied. */
export async function loadConfig(explicit?: string, cwd?: string, variant = process.env.RIG_VARIANT): Promise<LoadedConfig> {
  const file = findConfigFile(explicit, cwd)
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (err) {
    throw new ConfigError('RIG_CONFIG_LOAD_FAILED', describeLoadError(err, file), { cause: err })
  }
  if (mod.default === undefined) throw new ConfigError('RIG_CONFIG_INVALID', `${file} has no default export: export default defineConfig({ ... })`)
  validateConfig(mod.default, path.basename(file))
  // RIG_VARIANT (rig up --variant, rig({ variant })): the variant's services, and its env for
  // the services rig starts and the tests.
  if (!variant) return { config: mod.default as RigConfig, file, root: path.dirname(file) }
  const config = applyVariant(mod.default as RigConfig, variant)
  Object.assign(process.env, config.variants?.[variant]?.env ?? {})
  return { config, file, root: path.dirname(file), variant }
}
