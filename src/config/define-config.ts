import type { Fixtures } from '../guard/fixtures.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'
import type { Variant } from '../variants/variants.ts'

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
  /**
   * Named data sets the guard loads on request (`rig({ fixture })`, `rig.useFixture(name)`,
   * `rig up --fixture NAME`): an SQL file (relative to this file) or a function per service,
   * or one function for all, e.g. `{ fleet: { db: 'test/fixtures/fleet.sql' } }`.
   */
  fixtures?: Fixtures
  /**
   * Named overlays of this config, for running the suite against each (`RIG_VARIANT=de`,
   * `rig up --variant de`, `rig({ variant })`): options merged over services (or definitions
   * replacing them) and env vars, e.g. `{ de: { services: { api: { env: { LOCALE: 'de' } } } } }`.
   */
  variants?: Record<string, Variant>
}

/** Types a config; returns its argument unchanged. */
export function defineConfig<const T extends RigConfig>(config: T): T {
  return config
}
