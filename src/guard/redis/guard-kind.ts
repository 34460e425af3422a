// Redis in the guard's registry: a logical database per store and per worker.
import { REDIS_SCHEMES } from '../guard-kind-list.ts'
import type { GuardKind } from '../guard-kinds.ts'
import { redisStore } from './redis-store.ts'
import { redisWorkers } from './worker-dbs.ts'

/** Redis services (and `external()` ones at a redis:// URL): {@link redisStore}; a worker's copy is a logical database. */
export const redisGuardKind: GuardKind = {
  kind: 'redis',
  schemes: REDIS_SCHEMES,
  store: (source, options = {}) => redisStore(source, { ...(options.exclude ? { exclude: options.exclude } : {}), ...(options.queues ? { queues: options.queues } : {}) }),
  // A key prefix would need the application's cooperation; a database index travels in the URL.
  workers: (info, url, ca) => redisWorkers(info, url, { mode: 'db', ...(ca ? { ca } : {}) }),
}
