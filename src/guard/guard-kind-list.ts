// Which service kinds the guard watches, without loading any of them: a test worker imports
// only the kinds its environment has (a worker of a PostgreSQL-only suite never loads the
// MariaDB, Redis or RabbitMQ code). `guard-kinds.ts` is the same registry, loaded at once.
import type { GuardKind } from './guard-kinds.ts'

/** URL schemes of `external()` services watched as PostgreSQL. */
export const POSTGRES_SCHEMES = ['postgres:', 'postgresql:'] as const
/** URL schemes of `external()` services watched as Redis. */
export const REDIS_SCHEMES = ['redis:', 'rediss:'] as const

/** One kind of the registry: its name, the URL schemes it watches, and how to load it. */
interface GuardKindEntry {
  readonly kind: string
  readonly schemes?: readonly string[]
  load(): Promise<GuardKind>
}

/** Every store kind the guard knows, in the order of `GUARD_KINDS`. */
const ENTRIES: readonly GuardKindEntry[] = [
  { kind: 'postgres', schemes: POSTGRES_SCHEMES, load: async () => (await import('./postgres/guard-kind.ts')).postgresGuardKind },
  { kind: 'redis', schemes: REDIS_SCHEMES, load: async () => (await import('./redis/guard-kind.ts')).redisGuardKind },
  { kind: 'mariadb', load: async () => (await import('./mariadb/guard-kind.ts')).mariadbGuardKind },
  { kind: 'mysql', load: async () => (await import('./mariadb/guard-kind.ts')).mysqlGuardKind },
  { kind: 'rabbitmq', load: async () => (await import('./rabbitmq/guard-kind.ts')).rabbitmqGuardKind },
]

/** Whether the guard watches services of store kind `kind` (see {@link storeKindOf}). */
export function isGuardKind(kind: string): boolean {
  return ENTRIES.some((e) => e.kind === kind)
}

/** The guard kind for services of `kind`, loaded on first use; undefined when the guard does not watch them. */
export function loadGuardKind(kind: string): Promise<GuardKind | undefined> {
  return ENTRIES.find((e) => e.kind === kind)?.load() ?? Promise.resolve(undefined)
}

/**
 * The store kind of a service: its own kind, or for an `external()` service the kind whose
 * `schemes` its URL uses (`postgres://…`, `redis://…`), so a shared store rig did not start is
 * watched too.
 */
export function storeKindOf(kind: string, url: string): string {
  if (kind !== 'external') return kind
  try {
    const scheme = new URL(url).protocol
    return ENTRIES.find((k) => k.schemes?.includes(scheme))?.kind ?? kind
  } catch {
    return kind
  }
}
