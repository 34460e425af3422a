// Which services the front proxy serves and under which names, decided from the config alone
// (before anything starts), so every public URL is known up front and every process can be
// handed all of them: an API's CORS origins and a front end's API address need no dependency.
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { invalid, shown } from '../config/option-checks.ts'
import type { Probe } from '../probes/probe.ts'
import type { ServiceDefinition } from '../services/service-kind.ts'
import { varName } from '../env/var-name.ts'

/** The config's `front` option: `true`, or `{ port, tls }`. */
export type FrontOption = boolean | { port?: number; tls?: boolean }

/** The front proxy of one environment, as planned from its config. */
export interface FrontPlan {
  /** The project's name: the middle label of `<service>.<project>.localhost`. */
  project: string
  /** The proxy's port: `front.port`, else {@link defaultFrontPort} of the project. */
  port: number
  /** Whether the port was chosen in the config (for the advice when it is taken). */
  portFromConfig: boolean
  /** HTTPS with a certificate from rig's local CA. */
  tls: boolean
  /** Public services: config name → host label. */
  services: Record<string, string>
}

/** Kinds whose processes may speak HTTP; the data stores never do. */
const HTTP_KINDS = new Set(['command', 'external'])

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** A service name as a DNS label: `my_api` → `my-api` (names differing only there are refused already). */
export function hostLabel(service: string): string {
  return service.toLowerCase().replace(/_/g, '-')
}

/** The project name when the config gives none: the config directory's name as a DNS label. */
export function defaultProjectName(root: string): string {
  const label = path.basename(path.resolve(root)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '')
  return label || 'app'
}

/**
 * The front proxy's port when the config fixes none: the same for a project on every run and
 * every machine (FNV-1a of its name), in 20000–29999, below Linux's ephemeral range (32768+),
 * where the free ports rig and the OS hand out are taken.
 */
export function defaultFrontPort(project: string): number {
  let h = 0x811c9dc5
  for (const c of Buffer.from(project)) h = Math.imul(h ^ c, 0x01000193) >>> 0
  return 20000 + (h % 10000)
}

/** The public URL of `service` in `plan`. */
export function publicUrl(plan: Pick<FrontPlan, 'project' | 'port' | 'tls'>, label: string): string {
  return `${plan.tls ? 'https' : 'http'}://${label}.${plan.project}.localhost:${plan.port}`
}

/** `RIG_<NAME>_PUBLIC_URL` of every public service. */
export function publicVars(plan: FrontPlan): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const [name, label] of Object.entries(plan.services)) vars[varName(name, 'PUBLIC_URL')] = publicUrl(plan, label)
  return vars
}

const speaksHttp = (p: unknown): boolean => typeof (p as Probe | undefined)?.name === 'string' && /^https? /.test((p as Probe).name)

/** True when a service's readiness is an `http()` probe: it answers HTTP, so it is public by default. */
function hasHttpProbe(def: ServiceDefinition): boolean {
  const r = def.options.ready
  return Array.isArray(r) ? r.some(speaksHttp) : speaksHttp(r)
}

/** Checks the `front` and `project` options. */
export function checkFrontOptions(source: string, project: unknown, front: unknown): void {
  if (project !== undefined && !(typeof project === 'string' && LABEL.test(project))) {
    invalid(source, 'project', 'a DNS label (lowercase letters, digits and -, at most 63, e.g. "carshare"), since services are named <service>.<project>.localhost', project)
  }
  if (front === undefined || typeof front === 'boolean') return
  if (typeof front !== 'object' || front === null || Array.isArray(front)) invalid(source, 'front', 'true, false or { port, tls }', front)
  for (const key of Object.keys(front)) {
    if (key !== 'port' && key !== 'tls') throw new ConfigError('RIG_CONFIG_UNKNOWN_KEY', `${source}: unknown option "front.${key}" (allowed: port, tls)`)
  }
  const { port, tls } = front as { port?: unknown; tls?: unknown }
  if (port !== undefined && !(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536)) invalid(source, 'front.port', 'an integer from 1 to 65535', port)
  if (tls !== undefined && typeof tls !== 'boolean') invalid(source, 'front.tls', 'true or false', tls)
}

/** Checks a service's `public` option against its kind. */
export function checkPublicOption(name: string, def: ServiceDefinition): void {
  const p: unknown = def.options.public
  if (p === undefined) return
  if (typeof p !== 'boolean') invalid(`service "${name}"`, 'public', 'true or false', p)
  if (p && !HTTP_KINDS.has(def.kind.name)) {
    const instead = def.kind.name === 'postgres' ? ' (for TLS to PostgreSQL use its `ssl: true`)' : ''
    throw new ConfigError(
      'RIG_FRONT_NOT_HTTP',
      `service "${name}" (${def.kind.name}) does not speak HTTP, and the front proxy serves HTTP and HTTPS only: remove \`public\` from it${instead}; clients reach it at RIG_${hostLabel(name).toUpperCase().replace(/-/g, '_')}_URL`,
    )
  }
}

/**
 * Plans the front proxy of a validated config, or returns undefined when `front` is off. A
 * service is public with `public: true`, or when it is a `command()` whose readiness is an
 * `http()` probe and it does not say `public: false`.
 */
export function planFront(config: { project?: string; front?: FrontOption; services: Record<string, ServiceDefinition<any>> }, root: string): FrontPlan | undefined {
  const front = config.front
  if (front === undefined || front === false) return undefined
  const o = typeof front === 'object' ? front : {}
  const project = config.project ?? defaultProjectName(root)
  const services: Record<string, string> = Object.create(null)
  for (const [name, def] of Object.entries(config.services)) {
    const p = def.options.public
    if (p === true || (p === undefined && def.kind.name === 'command' && !def.options.oneShot && hasHttpProbe(def))) services[name] = hostLabel(name)
  }
  if (Object.keys(services).length === 0) {
    throw new ConfigError(
      'RIG_FRONT_NO_SERVICES',
      `front is on, but no service is public: give an HTTP service \`public: true\`, or an \`http()\` readiness probe (a command() with one is public by default); services: ${Object.keys(config.services).join(', ')}${front === true ? '' : ` (front: ${shown(front)})`}`,
    )
  }
  return { project, port: o.port ?? defaultFrontPort(project), portFromConfig: o.port !== undefined, tls: o.tls === true, services }
}
