// Every default in one place.

/** Readiness deadline per service before scaling. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000

/** Config file names searched, in order. */
export const CONFIG_FILES = ['rig.config.ts', 'rig.config.mts', 'rig.config.js', 'rig.config.mjs'] as const

/** Keys allowed at the top level of the config. */
export const TOP_LEVEL_KEYS = ['services', 'project', 'front', 'readyTimeout', 'logsDir', 'fixtures', 'variants', 'hosts', 'hostNetwork'] as const

/** Where the CLI keeps its state, relative to the config file. */
export const STATE_DIR = '.rig'

/**
 * Multiplier for every deadline: `RIG_TIMEOUT_SCALE` when set, 2 on CI (slower, shared
 * machines), else 1.
 */
export function timeoutScale(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.RIG_TIMEOUT_SCALE)
  if (Number.isFinite(s) && s > 0) return s
  return env.CI && env.CI !== 'false' && env.CI !== '0' ? 2 : 1
}
