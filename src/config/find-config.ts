// Where the config file is, without loading it: commands that only read the state of a running
// environment (`rig status`, `rig down`…) need the project's directory, not the config's code.
import fs from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { CONFIG_FILES } from './defaults.ts'

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
