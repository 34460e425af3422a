// The car-sharing suite runs through the testrig plugin: rig starts PostgreSQL, the billing
// queue's broker (RabbitMQ, Redis, or none: see rig.config.ts), the migration, the API and the
// billing worker from rig.config.ts, checks every test for leaked data and logged errors, and
// writes the report to rig-report/<locale>/ (or to CARSHARE_REPORT_DIR).
//
// Before each check rig waits until billing has nothing in flight: RabbitMQ's consumed queues
// it finds by itself; the Redis lists and the PostgreSQL table used as queues are named here.
//
// Files run one at a time by default (`isolation: 'shared'`). CARSHARE_ISOLATION=stack runs
// them in parallel, each Vitest worker with its own copy of the database (a clone of the
// migrated one), of the billing queue (a RabbitMQ vhost or a Redis database) and of the app's
// processes (api, billing, legacy) wired to them on ports of their own:
//
//   CARSHARE_ISOLATION=stack npx vitest run --maxWorkers=4
import { defineConfig } from 'vitest/config'
import { rig } from 'testrig/vitest'
import { BILLING_JOBS_TABLE, BILLING_PROCESSING, BILLING_QUEUE } from './lib/queue.ts'

const locale = process.env.CARSHARE_LOCALE ?? 'fr'
const isolation = process.env.CARSHARE_ISOLATION === 'stack' ? 'stack' : 'shared'

export default defineConfig({
  plugins: [
    rig({
      isolation,
      report: { dir: process.env.CARSHARE_REPORT_DIR || `rig-report/${locale}` },
      guard: { settle: { queues: { cache: [BILLING_QUEUE, BILLING_PROCESSING], db: [BILLING_JOBS_TABLE] } } },
    }),
  ],
  test: { include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 60_000 },
})
