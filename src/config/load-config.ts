// Finds and imports rig.config.ts; Node runs the TypeScript directly.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.ts'
import { CONFIG_FILES } from './defaults.ts'
import { describeLoadError } from './load-error.ts'
import type { RigConfig } from './define-config.ts'
import { validateConfig } from './validate.ts'

/** A loaded, validated config and where it came from. */
export interface LoadedConfig {
  config: RigConfig
  /** Absolute path of the config file. */
  file: string
  /** Its directory: relative paths and `.rig/` are resolved against it. */
  root: string
}

/** Finds the config file: `explicit` if given, else the nearest one from `cwd` upwards. */
export function findConfigFile(explicit?: string, cwd = process.cwd()): string {
  if (explicit) {
    const p = path.resolve(cwd, explicit)
    if (!fs.existsSync(p)) throw new ConfigError('RIG_CONFIG_NOT_FOUND', `config file ${p} does not exist`)
    return p
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILES) {
      const p = path.join(dir, name)
      if (fs.existsSync(p)) return p
    }
    if (path.dirname(dir) === dir) break
  }
  throw new ConfigError(
    'RIG_CONFIG_NOT_FOUND',
    `no rig.config.ts found in ${cwd} or its parents. Create one:\n\n` +
      `  import { defineConfig, postgres } from 'testrig'\n  export default defineConfig({ services: { db: postgres() } })\n\n` +
      `or pass --config PATH.`,
  )
}

/** Loads and validates the config. */
export async function loadConfig(explicit?: string, cwd?: string): Promise<LoadedConfig> {
  const file = findConfigFile(explicit, cwd)
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (err) {
    throw new ConfigError('RIG_CONFIG_LOAD_FAILED', describeLoadError(err, file), { cause: err })
  }
  if (mod.default === undefined) throw new ConfigError('RIG_CONFIG_INVALID', `${file} has no default export: export default defineConfig({ ... })`)
  validateConfig(mod.default, path.basename(file))
  return { config: mod.default as RigConfig, file, root: path.dirname(file) }
}
