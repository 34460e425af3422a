// Where a check project is: the nearest directory, from cwd upwards, holding rig.checks.ts or a
// rig config file. A nested check project (examples/checks in a repo that has its own
// rig.config.ts) is found before the repo's root.
import fs from 'node:fs'
import path from 'node:path'
import { CONFIG_FILES } from '../config/defaults.ts'
import { CHECKS_CONFIG_FILE } from './config.ts'

/** The check project's root; cwd when no marker file is found. */
export function findChecksRoot(cwd = process.cwd()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if ([CHECKS_CONFIG_FILE, ...CONFIG_FILES].some((f) => fs.existsSync(path.join(dir, f)))) return dir
    if (path.dirname(dir) === dir) return path.resolve(cwd)
  }
}
