// The guard's registry of store kinds: which service kinds it watches, how to open a store for
// one, and how to copy it per worker. Each kind describes itself in its own folder
// (`<kind>/guard-kind.ts`); adding one is that folder and one line below, and one in
// `guard-kind-list.ts` (the same list, each kind loaded only when asked for).
import type { StoreAdapter, StoreInfo, WorkerCloner } from './adapter.ts'
import { mariadbGuardKind, mysqlGuardKind } from './mariadb/guard-kind.ts'
import { postgresGuardKind } from './postgres/guard-kind.ts'
import type { StoreSource } from './postgres/postgres-store.ts'
import { rabbitmqGuardKind } from './rabbitmq/guard-kind.ts'
import { redisGuardKind } from './redis/guard-kind.ts'

/** How the guard handles services of one kind. */
export interface GuardKind {
  /** The service kind it guards, e.g. `postgres`. */
  readonly kind: string
  /**
   * URL schemes of `external()` services watched as this kind (read-only unless
   * `allowClean` names them), e.g. `['postgres:', 'postgresql:']`.
   */
  readonly schemes?: readonly string[]
  /**
   * Opens the store of a service; connections are made lazily, on first use. `queues`: the
   * queues the application consumes, where the kind cannot find them itself (Redis keys,
   * PostgreSQL tables).
   */
  store(source: StoreSource, options?: { exclude?: readonly string[]; queues?: readonly string[] }): StoreAdapter
  /**
   * Per-worker copies an application reaches through its URL alone (the test runners'
   * `isolation: 'database'`), of the store `info` describes at `url` (`ca`: the CA file of a
   * store served over TLS); absent when the kind has none.
   */
  workers?(info: StoreInfo, url: string, ca?: string): WorkerCloner
}

/** Every store kind the guard knows. */
export const GUARD_KINDS: readonly GuardKind[] = [postgresGuardKind, redisGuardKind, mariadbGuardKind, mysqlGuardKind, rabbitmqGuardKind]

/** The guard kind for services of `kind`, if the guard watches them. */
export function guardKind(kind: string): GuardKind | undefined {
  return GUARD_KINDS.find((k) => k.kind === kind)
}

export { storeKindOf } from './guard-kind-list.ts'
