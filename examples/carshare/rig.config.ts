// The car-sharing system under test: PostgreSQL, the billing queue's broker (RabbitMQ, or
// Redis), a one-shot migration, the HTTP API and the billing worker.
//
//   db ──┬──> migrate (one-shot: schema + reference data)
//        │        │ completed
//   mq ──┴────────┴──> api (http /health)   billing (ready once it waits for jobs)
//   fleetdb (MariaDB) ──> legacy (the old fleet system, GET /vehicles)
//
// Variants: CARSHARE_LOCALE=fr (default) or en selects the deployment's labels and price
// format; the same tests run against either. It is read when the API starts, so one process
// can start both variants one after the other (see smoke.ts).
//
// Billing queue (lib/queue-choice.ts): RabbitMQ when rabbitmq-server is installed (service
// `mq`: the API publishes rental events, billing consumes them); else Redis when redis-server
// is (service `cache`); else, or with CARSHARE_QUEUE=postgres, no broker at all and the queue
// is the `billing_jobs` table in PostgreSQL. Together with the embedded PGlite fallback, the
// whole system then runs with nothing but Node.
//
// Variant `prod-like` (RIG_VARIANT=prod-like npx vitest run): the same suite with the front
// proxy on, so the API is also reached at its public name (RIG_API_PUBLIC_URL,
// http://api.carshare.localhost:<port>), and RIG_PROFILE=prod-like; the API has no production
// switches of its own yet, so its env overlay is empty (see docs/variants.md).
// Variant `failover` (RIG_VARIANT=failover, needs the PostgreSQL binaries): the database gets a
// synchronous replica; the API and the worker reach the primary through rig's stable address,
// which follows a failover (test/failover.test.ts).
import { defineConfig, http, logLine, mariadb, postgres, prodLike, rabbitmq, redis, command } from 'testrig'
import { chooseQueue, legacyFleetAvailable } from './lib/queue-choice.ts'

// The Node running rig (it loaded this TypeScript file, so it runs TypeScript too); a bare
// `node` on PATH may be an older one.
const node = process.execPath
const dbProvider = process.env.CARSHARE_DB_PROVIDER
const queue = chooseQueue().kind
const withRedis = queue === 'redis'
const withRabbit = queue === 'rabbitmq'
// The legacy fleet system on MariaDB, being replaced by the API: while both run, the suite
// checks they agree. Left out without a MariaDB server (or with CARSHARE_LEGACY=off).
const withLegacy = legacyFleetAvailable()
// The broker the API and the worker wait for, if any.
const broker: Record<string, 'ready'> = withRabbit ? { mq: 'ready' } : withRedis ? { cache: 'ready' } : {}

export default defineConfig({
  services: {
    // The default database, `postgres`: the embedded PGlite fallback (machines without
    // PostgreSQL binaries) has only that one. CARSHARE_DB_PROVIDER=embedded forces PGlite.
    db: postgres(dbProvider === 'embedded' || dbProvider === 'process' ? { provider: dbProvider } : {}),
    // The broker's Erlang VM boots in seconds, far more on a busy machine: give it room.
    ...(withRabbit ? { mq: rabbitmq({ readyTimeout: 60_000 }) } : {}),
    ...(withRedis ? { cache: redis() } : {}),
    // A one-shot task: the environment (and every dependent) waits for it to exit 0.
    migrate: command({
      run: [node, 'db/migrate.ts'],
      dependsOn: ['db'],
      // Ready means "exited 0": nothing starts against a half-migrated database.
      oneShot: true,
      env: { DATABASE_URL: '{db.url}' },
    }),
    api: command({
      run: [node, 'api/server.ts'],
      dependsOn: { db: 'ready', ...broker, migrate: 'completed' },
      env: ({ db, cache, mq }) => ({
        DATABASE_URL: db?.url ?? '',
        QUEUE: queue,
        ...(withRedis ? { REDIS_URL: cache?.url ?? '' } : {}),
        ...(withRabbit ? { AMQP_URL: mq?.url ?? '' } : {}),
        PORT: '{port}',
        LOCALE: process.env.CARSHARE_LOCALE ?? 'fr',
      }),
      ready: http('/health'),
    }),
    ...(withLegacy
      ? {
          fleetdb: mariadb(),
          legacy: command({ run: [node, 'legacy/fleet.ts'], dependsOn: { fleetdb: 'ready' }, env: { DATABASE_URL: '{fleetdb.url}', PORT: '{port}' }, ready: http('/vehicles') }),
        }
      : {}),
    billing: command({
      run: [node, 'worker/billing.ts'],
      dependsOn: { db: 'ready', ...broker, migrate: 'completed' },
      env: { DATABASE_URL: '{db.url}', QUEUE: queue, ...(withRedis ? { REDIS_URL: '{cache.url}' } : {}), ...(withRabbit ? { AMQP_URL: '{mq.url}' } : {}) },
      // Ready once connected to its queue and waiting for the first job.
      ready: logLine(/billing worker ready/),
    }),
  },
  variants: {
    'prod-like': prodLike(),
    // Replicas need the PostgreSQL binaries: not on PGlite.
    ...(dbProvider === 'embedded' ? {} : { failover: { services: { db: { replicas: 1, synchronous: true } } } }),
  },
})
