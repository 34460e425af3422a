// Guard stores for every data service of an environment, by kind (the kinds of guard-kinds.ts,
// or the caller's own factories).
import { varName } from '../env/var-name.ts'
import type { StoreAdapter } from './adapter.ts'
import { GUARD_KINDS, storeKindOf } from './guard-kinds.ts'
import type { StoreSource } from './postgres/postgres-store.ts'

/** A service as listed by an environment or the state file. */
export interface ServiceLike {
  kind: string
  url: string
  provider?: string
  /** Its `RIG_<NAME>_*` variables: a TLS service's CA file is read from them. */
  env?: Readonly<Record<string, string>>
}

/** Makes a store for services of one kind. */
export type StoreFactory = (source: StoreSource) => StoreAdapter

/** The store kinds rig knows, by service kind. */
export const DEFAULT_FACTORIES: Readonly<Record<string, StoreFactory>> = Object.fromEntries(GUARD_KINDS.map((k) => [k.kind, (s: StoreSource) => k.store(s)]))

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
    const ca = svc.env?.[varName(name, 'CA_CERT')] ?? svc.env?.RIG_CA_CERT
    if (make) out.push(make({ name, url: svc.url, ...(svc.provider ? { provider: svc.provider } : {}), ...(ca ? { ca } : {}) }))
  }
  return out
}
