import type { FrontOption } from '../front/plan.ts'
import type { Fixtures } from '../guard/fixtures.ts'
import type { HostOptions } from '../hosts/check-hosts.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'
import type { Variant } from '../variants/variants.ts'

/** The contents of `rig.config.ts`. */
export interface RigConfig {
  /** The services of the environment, by name. Names become `RIG_<NAME>_URL` etc. */
  services: Record<string, ServiceDefinition<any>>
  /**
   * The project's name, the middle label of its services' public names
   * (`http://api.<project>.localhost:<port>`, see `front`). A DNS label.
   * @default the config directory's name, as a DNS label
   */
  project?: string
  /**
   * rig's front proxy: every public (HTTP) service at `http://<service>.<project>.localhost:<port>`
   * through one port, routed by Host, exported as `RIG_<NAME>_PUBLIC_URL`. `port` fixes the port
   * (by default one derived from the project name, the same on every run); `tls: true` serves
   * HTTPS with a certificate from rig's local CA (`rig trust`).
   * @default false
   */
  front?: FrontOption
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
  /**
   * Named hosts, e.g. `{ core1: {}, core2: {} }`: each a network namespace with its own address
   * (root and iproute2 needed), that services join with `host: 'core1'`. Partitions between
   * hosts cut real routes, `host('core1').down()` is a node loss. See docs/topology.md.
   */
  hosts?: Record<string, HostOptions>
  /**
   * IPv4 range hosts take their addresses from: a /24 is used as is; from a larger range each
   * environment takes a free /24. `RIG_HOST_NETWORK` overrides it.
   * @default '10.213.0.0/16'
   */
  hostNetwork?: string
}

/** Types a config; returns its argument unchanged. */
export function defineConfig<const T extends RigConfig>(config: T): T {
  return config
}
