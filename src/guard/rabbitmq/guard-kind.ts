// RabbitMQ in the guard's registry: a vhost per store, and a vhost per worker.
import type { GuardKind } from '../guard-kinds.ts'
import { rabbitmqStore } from './rabbitmq-store.ts'
import { rabbitmqWorkers } from './worker-vhosts.ts'

/** RabbitMQ services: {@link rabbitmqStore}; a worker's copy is a vhost of the same broker. */
export const rabbitmqGuardKind: GuardKind = {
  kind: 'rabbitmq',
  store: (source, options = {}) => rabbitmqStore(source, options.exclude ? { exclude: options.exclude } : {}),
  // No URL schemes: on a broker rig did not start, the guard needs the queues to watch, which
  // only a store made with rabbitmqStore({ queues }) can say.
  workers: (info, url) => rabbitmqWorkers(info, url),
}
