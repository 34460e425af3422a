// The extension point for service kinds: PostgreSQL, Redis, the team's own commands, external
// services. Adding a kind is one new folder exporting a definition factory built on this.
import type { Probe } from '../probes/probe.ts'
import type { LogBuffer } from '../providers/process/log-buffer.ts'
import type { ManagedProcess } from '../providers/process/managed-process.ts'
import type { Faults } from '../proxy/faults.ts'
import type { ProxyOption } from '../proxy/network.ts'
import type { Topology } from '../topology/topology.ts'

/** How a dependent waits for a dependency. */
export type DependencyCondition = 'started' | 'ready' | 'completed'

/** `dependsOn: ['db']` waits for `ready`; the object form picks a condition per dependency. */
export type DependsOn = readonly string[] | Readonly<Record<string, DependencyCondition>>

/** The address of a started service, as dependents and tests see it. */
export interface ServiceAddress {
  name: string
  host: string
  port: number
  url: string
  /** Env vars this service exports, e.g. `DATABASE_URL`. */
  env: Readonly<Record<string, string>>
}

/** Options every kind accepts. */
export interface CommonOptions {
  /** Services to wait for before this one starts. */
  dependsOn?: DependsOn
  /** Readiness probes; replaces the kind's default probe. */
  ready?: Probe | readonly Probe[]
  /**
   * Deadline for readiness, in ms, scaled by `RIG_TIMEOUT_SCALE` (2 under CI).
   * @default 30000
   */
  readyTimeout?: number
  /** A fixed port; by default rig picks a free one. */
  port?: number
  /**
   * Puts rig's TCP proxy in front of the service: `RIG_<NAME>_URL` and the addresses its
   * dependents get go through it (`RIG_<NAME>_DIRECT_URL` does not), so tests can inject
   * network faults. `{ port }` fixes the port tests connect to.
   * @default false (true when `faults` are given)
   */
  proxy?: ProxyOption
  /** Network faults in force from the start (each test starts from them), e.g. `{ latency: 20 }`. */
  faults?: Faults
  /**
   * The host (of the config's `hosts`) the service runs on: its own network namespace and
   * address. Needs root and iproute2.
   */
  host?: string
  /**
   * Serves the service on rig's front proxy as `<service>.<project>.localhost` (config `front`).
   * Only for services that speak HTTP.
   * @default true for a `command()` with an `http()` readiness probe, else false
   */
  public?: boolean
}

/** Keys of {@link CommonOptions}, for unknown-key detection. */
export const commonOptionKeys = ['dependsOn', 'ready', 'readyTimeout', 'port', 'proxy', 'faults', 'host', 'public'] as const

/** What a kind's `start` receives. */
export interface StartContext {
  /** The service's name in the config. */
  name: string
  /** A fresh directory for this instance, removed when the environment stops. */
  dir: string
  /** Where the service's output goes. */
  logs: LogBuffer
  /** The port chosen for the service (the fixed one, or a free one). */
  port: number
  /** The address the service listens on and is reached at: `127.0.0.1`, or its host's address. */
  host: string
  /** The network namespace its process must run in (its host's), if any: pass it to the spawn. */
  netns?: string | undefined
  /** On a host: the range its clients connect from (every host and the root namespace), e.g. `10.213.7.0/24`. */
  clientRange?: string | undefined
  /** Started dependencies, by name. */
  deps: Readonly<Record<string, ServiceAddress>>
  /** Directory of the config file; relative paths are resolved against it. */
  root: string
  /** Aborted when the environment gives up starting. */
  signal: AbortSignal
  /** Shows a one-line notice to the user (e.g. a fallback was taken). */
  notice(message: string): void
  /**
   * Variables every process of the environment gets, whatever it depends on: the public URLs
   * of the front proxy (`RIG_<NAME>_PUBLIC_URL`), `NODE_EXTRA_CA_CERTS` when rig's CA is in use.
   */
  env?: Readonly<Record<string, string>>
  /**
   * Issues a server certificate for this service from rig's CA (`<service>.<project>.localhost`,
   * localhost, loopback; on a host also its address, from the environment's hosts CA); present
   * when the environment uses TLS (`front.tls`, a service's `ssl` or `tls`). `caFile` verifies it.
   */
  certificate?: (() => { cert: string; key: string; caFile: string }) | undefined
  /**
   * Records a process the kind spawns besides the one `launch` returns (a replica), so the
   * watchdog kills it were rig to die; the kind stops it (see {@link Launched.topology}).
   */
  track(proc: ManagedProcess): void
}

/** What a kind hands back once it has launched a service. */
export interface Launched {
  host: string
  port: number
  url: string
  env: Record<string, string>
  /**
   * Variables exported under their own names besides `RIG_<NAME>_*`, for clients that read a
   * fixed one (`SENTRY_DSN`); dependents and tests get them like the others.
   */
  plainEnv?: Record<string, string>
  /** Which provider ran it: `process`, `embedded` or `external`. */
  provider: string
  /** Starts (or restarts) the process; absent for services rig does not run. */
  launch?: () => ManagedProcess
  /** Probes used when the user gives none. */
  defaultReady: Probe[]
  /**
   * Steps the kind needs once the process answers, run before the readiness probes (also
   * when the user replaces them) and again after a restart, e.g. PostgreSQL storing the
   * environment's password.
   */
  setup?: Probe[]
  /** A one-shot task: exiting with code 0 is what "ready" means for it. */
  completesOnExit?: boolean
  /** A hint shown when the process crashes during start-up (e.g. what its logs usually mean). */
  crashHint?: (logTail: readonly string[]) => string | undefined
  /**
   * Signal for the environment's final stop, when the instance dir and its data are thrown away
   * (a clean stop is only worth its time before a restart). Default: the process's stop signal.
   */
  teardownSignal?: NodeJS.Signals
  /**
   * Asks the process to exit through its own protocol, when that is faster than its stop signal
   * (Redis's SHUTDOWN). Resolves once the request was accepted; the stop signal still follows if
   * the process has not exited shortly after, or at once when this rejects.
   */
  requestStop?: (teardown: boolean) => Promise<void>
  /** Extra cleanup after the environment stopped the service for good (the instance dir is removed by the environment). */
  cleanup?: () => Promise<void>
  /**
   * The processes of a service that runs several (a Redis master, replicas and sentinels; the
   * instances of a command), in start order; they stop in reverse order. Replaces {@link launch}.
   */
  members?: MemberSpec[]
  /** Role operations of a service with members (a Sentinel failover). */
  roles?: RoleOps
  /**
   * A primary and replicas the kind runs itself (PostgreSQL `replicas`): `launch` starts the
   * primary, the topology the rest; the environment gives each role an address through rig's
   * proxy that follows role changes, and stops the members with the service.
   */
  topology?: Topology
  /**
   * Replaces the service's members one at a time (`instances` of a command): each new one
   * ready before traffic moves to it and the old one stops.
   */
  redeploy?: Redeploy
  /**
   * Turns the readiness probes (the user's, or {@link defaultReady}) into those of the whole
   * service: each instance's probes against its own address, for a service of several.
   */
  wrapReady?: (probes: readonly Probe[]) => Probe[]
}

/** A new version of a service: what `restart({ run, env })` changes. */
export interface RestartChange {
  /** The command to run instead of the config's. */
  run?: string | readonly string[]
  /** Variables set on top of the config's `env`. */
  env?: Record<string, string>
}

/** A rolling replacement of the members of a service. */
export interface Redeploy {
  /** A new member to take `old`'s place, on a port of its own, with `change` applied. */
  next(old: MemberSpec, change: RestartChange | undefined): Promise<MemberSpec>
  /** Resolves once `m` is ready (the service's probes against its own address). */
  ready(m: MemberSpec, signal: AbortSignal): Promise<void>
  /** Sends new connections to `next` instead of `old`, then waits until `old`'s open ones are done. */
  switchOver(old: MemberSpec, next: MemberSpec): Promise<void>
  /** Makes `change` the service's version from now on (a member started later runs it). */
  commit(change: RestartChange | undefined): void
}

/** One process of a service with several. */
export interface MemberSpec {
  /** Unique within the service: `master`, `replica1`, `sentinel2`, `1`… */
  readonly name: string
  /** What it does now (`master`, `replica`, `sentinel`, `instance`); a failover changes it. */
  role: string
  readonly host: string
  readonly port: number
  /** Starts (or restarts) the process. */
  launch(): ManagedProcess
  /** As {@link Launched.requestStop}, for this member. */
  requestStop?: (teardown: boolean) => Promise<void>
}

/** Operations that move roles between the members of a service. */
export interface RoleOps {
  /**
   * Makes another member the master (or primary) and resolves once the new one is seen as
   * such; resolves with its member name. Throws a RigError when no member can take over.
   */
  failover(signal: AbortSignal): Promise<string>
}

/** A line of `rig doctor`. */
export interface DoctorEntry {
  what: string
  ok: boolean
  detail: string
  /** What to do when not ok. */
  fix?: string
  /** Not needed to run (a fallback exists, or only some features use it). */
  optional?: boolean
  /** The service kind it belongs to; only kinds the config uses are required. */
  kind?: string
}

/** A driver package (an optional peer dependency of testrig) that a kind's services use. */
export interface DriverNeed {
  /** npm package name, e.g. `pg`. */
  package: string
  /** What uses it, for `rig doctor`: e.g. `readiness probe and guard`. */
  purpose: string
}

/** One kind of service. */
export interface ServiceKind<O extends object> {
  /** e.g. `postgres`. */
  readonly name: string
  /** Option keys this kind accepts besides {@link commonOptionKeys}. */
  readonly optionKeys: readonly string[]
  /** Whether its services may be placed on a host (the kind listens on `ctx.host` and spawns in `ctx.netns`). */
  readonly runsOnHosts?: boolean
  /** Whether the options ask for role addresses through rig's proxy (PostgreSQL `replicas`). @default false */
  readonly wantsProxy?: (options: O) => boolean
  /** Whether rig must pick a port for it when none is fixed. @default true */
  readonly needsPort?: (options: O) => boolean
  /**
   * Checks the kind's own option values before anything starts (the keys are already known
   * to be allowed); throws a ConfigError whose message begins with `where`.
   */
  validate?(options: O & CommonOptions, where: string): void
  /** Starts one instance. */
  start(ctx: StartContext, options: O & CommonOptions): Promise<Launched>
  /**
   * The options of a new version (`restart({ run, env })`), checked; absent when the kind
   * takes none (only the team's own commands do).
   */
  withChange?(options: O & CommonOptions, change: RestartChange, where: string): O & CommonOptions
  /** Driver packages its services use; `rig doctor` fails when one of a configured kind is missing. */
  readonly drivers?: readonly DriverNeed[]
  /** Checks this kind's prerequisites for `rig doctor` (binaries; drivers come from {@link drivers}). */
  doctor?(): Promise<DoctorEntry[]>
  /** Patterns of log lines that mean an error (used by the per-test log scan). */
  readonly errorPatterns?: readonly RegExp[]
}

/** What a factory such as `postgres()` returns: a kind with its options. */
export interface ServiceDefinition<O extends object = object> {
  readonly kind: ServiceKind<O>
  readonly options: O & CommonOptions
}

/** Builds a definition; used by every kind's factory. */
export function defineService<O extends object>(kind: ServiceKind<O>, options: O & CommonOptions): ServiceDefinition<O> {
  return { kind, options }
}
