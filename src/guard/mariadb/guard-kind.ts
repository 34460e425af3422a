// MariaDB and MySQL in the guard's registry: one store adapter for both kinds, databases
// copied per worker.
import type { GuardKind } from '../guard-kinds.ts'
import { mariadbStore } from './mariadb-store.ts'
import { mariadbWorkers } from './worker-clones.ts'

/** A guard kind for `mariadb()` or `mysql()` services. */
function kindFor(kind: 'mariadb' | 'mysql'): GuardKind {
  return {
    kind,
    store: (source, options = {}) => mariadbStore(source, { kind, ...(options.exclude ? { exclude: options.exclude } : {}) }),
    workers: (info, url) => mariadbWorkers(info, url),
  }
}

/** `mariadb()` services: {@link mariadbStore}. */
export const mariadbGuardKind: GuardKind = kindFor('mariadb')

/** `mysql()` services: the same adapter, named `mysql` in reports. */
export const mysqlGuardKind: GuardKind = kindFor('mysql')
