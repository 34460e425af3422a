import type { ServiceDefinition } from '../services/service-kind.ts'

/** The contents of `rig.config.ts`. */
export interface RigConfig {
  /** The services of the environment, by name. Names become `RIG_<NAME>_URL` etc. */
  services: Record<string, ServiceDefinition<any>>
  /**
   * Default readiness deadline per service, in ms (scaled by `RIG_TIMEOUT_SCALE`, 2 under CI).
   * @default 30000
   */
  readyTimeout?: number
  /**
   * Where service logs are written. Relative to the config file.
   * @default '.rig/logs'
   */
  logsDir?: string
}

/** Types a config; returns its argument unchanged. */
export function defineConfig<const T extends RigConfig>(config: T): T {
  return config
}
