// Which env values the checks see: the chosen target's, or, without one, those of the
// environment `rig up` left running in this project (RIG_DB_URL…), so checks written for
// production run unchanged against the laptop.
import path from 'node:path'
import { attachable, readStateQuietly } from '../env/state.ts'
import { CHECKS_CONFIG_FILE, targetValues, type ChecksConfig } from './config.ts'

/** Env values and where they came from. */
export interface ResolvedTarget {
  values: Record<string, string>
  /** The target name (`rig up` for the local environment), undefined for plain process.env. */
  name?: string
  /** Where the values came from. */
  source: 'target' | 'rig-up' | 'none'
}

/** The RIG_* variables of the environment running in `root`, or undefined when none runs. */
export function localEnvironmentValues(root: string): Record<string, string> | undefined {
  const s = readStateQuietly(root)
  if (!s || !attachable(s)) return undefined
  const values: Record<string, string> = {}
  for (const svc of Object.values(s.services)) Object.assign(values, svc.env)
  return values
}

/** Resolves `--target` (or its absence) to env values. */
export function resolveTarget(root: string, config: ChecksConfig, target: string | undefined): ResolvedTarget {
  if (target !== undefined) return { name: target, source: 'target', values: targetValues(config, target, path.join(root, CHECKS_CONFIG_FILE)) }
  const local = localEnvironmentValues(root)
  return local ? { name: 'rig up', source: 'rig-up', values: local } : { source: 'none', values: {} }
}
