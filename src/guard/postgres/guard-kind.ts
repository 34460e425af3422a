// PostgreSQL in the guard's registry: a database per store, cloned per worker.
import { POSTGRES_SCHEMES } from '../guard-kind-list.ts'
import type { GuardKind } from '../guard-kinds.ts'
import { postgresStore } from './postgres-store.ts'
import { postgresWorkers } from './worker-clones.ts'

/** PostgreSQL services (and `external()` ones at a postgres:// URL): {@link postgresStore}, worker databases cloned from a template. */
export const postgresGuardKind: GuardKind = {
  kind: 'postgres',
  schemes: POSTGRES_SCHEMES,
  store: (source, options = {}) => postgresStore(source, { ...(options.exclude ? { exclude: options.exclude } : {}), ...(options.queues ? { queues: options.queues } : {}) }),
  workers: (info, url) => postgresWorkers(info, url),
}
