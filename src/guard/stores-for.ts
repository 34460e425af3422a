// Guard stores for every data service of an environment, by kind. A new store kind adds its
// factory to DEFAULT_FACTORIES (or the caller passes its own list).
import type { StoreAdapter } from './adapter.ts'
import { postgresStore, type StoreSource } from './postgres/postgres-store.ts'
import { redisStore } from './redis/redis-store.ts'
import { storeKindOf } from './store-kind.ts'
import { mariadbStore } from './mariadb/mariadb-store.ts'

/** A service as listed by an environment or the state file. */
export interface ServiceLike {
  kind: string
  url: string
  provider?: string
}

/** Makes a store for services of one kind. */
export type StoreFactory = (source: StoreSource) => StoreAdapter

/** The store kinds rig knows, by service kind. */
export const DEFAULT_FACTORIES: Readonly<Record<string, StoreFactory>> = {
  postgres: (s) => postgresStore(s),
  redis: (s) => redisStore(s),
  mariadb: (s) => mariadbStore(s),
  mysql: (s) => mariadbStore(s, { kind: 'mysql' }),
}

/**
 * One store per data service of `env` (a started environment, or the services of `rig up`'s
 * state file), `external()` ones included: those are watched read-only (see `allowClean`).
 * Services of other kinds are skipped.
 *
 * @example
 * const guard = createGuard({ stores: storesFor(env) })
 */
export function storesFor(
  env: { services: Readonly<Record<string, ServiceLike>> },
  options: { only?: readonly string[]; factories?: Readonly<Record<string, StoreFactory>> } = {},
): StoreAdapter[] {
  const factories = options.factories ?? DEFAULT_FACTORIES
  const out: StoreAdapter[] = []
  for (const [name, svc] of Object.entries(env.services)) {
    if (options.only && !options.only.includes(name)) continue
    const make = factories[storeKindOf(svc.kind, svc.url)]
    if (make) out.push(make({ name, url: svc.url, ...(svc.provider ? { provider: svc.provider } : {}) }))
  }
  return out
}
