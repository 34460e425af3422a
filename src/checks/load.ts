// Finds and imports check files. A file that throws at import becomes one failing check, so
// the others still run; definitional mistakes (duplicate names, bad options) stop everything.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ProbeFailure } from '../probes/probe.ts'
import { beginCollecting, endCollecting, type CheckDefinition } from './check.ts'
import { CHECK_DEFAULTS, CHECKS_CONFIG_FILE, validateChecksConfig, type ChecksConfig } from './config.ts'
import { CheckConfigError } from './errors.ts'
import { validateGraph } from './select.ts'

/** A loaded check project. */
export interface CheckProject {
  root: string
  config: ChecksConfig
  /** Path of rig.checks.ts, when there is one. */
  configFile?: string
  /** Check files found, relative to root. */
  files: string[]
  checks: CheckDefinition[]
}

let generation = 0

/** Imports a file fresh: the query makes Node load it again, so `check()` runs again. */
function importFresh(file: string): Promise<unknown> {
  return import(`${pathToFileURL(file).href}?rig=${++generation}`)
}

/** Loads `rig.checks.ts` from `root`; an empty config when there is none. */
export async function loadChecksConfig(root: string): Promise<{ config: ChecksConfig; file?: string }> {
  const file = path.join(root, CHECKS_CONFIG_FILE)
  if (!fs.existsSync(file)) return { config: {} }
  let mod: { default?: unknown }
  try {
    mod = (await importFresh(file)) as { default?: unknown }
  } catch (err) {
    throw new CheckConfigError('RIG_CHECKS_CONFIG_LOAD_FAILED', `could not load ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return { config: validateChecksConfig(mod.default, file), file }
}

function standIn(rel: string, err: unknown): CheckDefinition {
  const message = err instanceof Error ? err.message : String(err)
  return {
    name: `import ${rel}`,
    options: {},
    file: rel,
    always: true,
    fn: () => {
      throw new ProbeFailure('error', `${rel} threw while being imported, so its checks did not run: ${message}`)
    },
  }
}

/** Finds the check files under `root` matching `include`, sorted, never inside node_modules. */
export async function findCheckFiles(root: string, include: readonly string[]): Promise<string[]> {
  const found = new Set<string>()
  for await (const f of fs.promises.glob([...include], { cwd: root, exclude: (p) => p.split(path.sep).includes('node_modules') })) found.add(f)
  return [...found].sort()
}

/**
 * Loads `rig.checks.ts` (if any) and every check file of the project at `root`.
 * `include` (e.g. from `--checks`) replaces the config's globs.
 */
export async function loadCheckProject(root: string, options: { include?: readonly string[]; loaded?: { config: ChecksConfig; file?: string } } = {}): Promise<CheckProject> {
  const { config, file: configFile } = options.loaded ?? (await loadChecksConfig(root))
  const include = options.include?.length ? options.include : (config.include ?? CHECK_DEFAULTS.include)
  const files = await findCheckFiles(root, include)
  if (files.length === 0) throw new CheckConfigError('RIG_CHECKS_NONE', `no check files match ${include.join(', ')} in ${root}: create one (e.g. checks/api.check.ts) or pass --checks GLOB`)
  const checks: CheckDefinition[] = []
  for (const rel of files) {
    const collector = beginCollecting()
    collector.file = rel
    // Earlier files' checks are visible, so a duplicate across files is caught at the second.
    collector.checks.push(...checks)
    try {
      await importFresh(path.join(root, rel))
      checks.splice(0, checks.length, ...collector.checks)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'RIG_CHECK_DUPLICATE' || code === 'RIG_CHECK_INVALID') throw err
      checks.push(standIn(rel, err))
    } finally {
      endCollecting()
    }
  }
  validateGraph(checks)
  return { root, config, ...(configFile ? { configFile } : {}), files, checks }
}
