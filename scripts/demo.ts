// `npm run demo`: the car-sharing example end to end through the Vitest plugin, in both of its
// deployment variants (fr, en), then where to find the reports.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { findPostgres } from '../src/services/postgres/binaries.ts'
import { chooseQueue, type QueueChoice } from '../examples/carshare/lib/queue-choice.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const example = path.join(root, 'examples', 'carshare')
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs')
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[22m` : s)

// Without redis-server the example's billing queue runs on PostgreSQL (the `billing_jobs`
// table) and there is no Redis service at all: with the embedded PGlite, only Node is needed.
let queue: QueueChoice
try {
  queue = chooseQueue()
} catch (err) {
  console.error(`demo: ${(err as Error).message}`)
  process.exit(2)
}
const stores = queue.kind === 'redis' ? 'PostgreSQL + Redis' : 'PostgreSQL'
console.log(bold(`testrig demo: a car-sharing system (API + billing worker + ${stores}), tested through rig\n`))
if (!findPostgres({}).path) console.log('notice: no PostgreSQL binary found: the database runs on embedded PGlite (apt-get install postgresql for the real server)')
if (queue.reason === 'redis-server not found') console.log('notice: redis-server not found: the billing queue runs on PostgreSQL instead (apt-get install redis-server for the Redis variant)')
else if (queue.kind === 'postgres') console.log('notice: CARSHARE_QUEUE=postgres: the billing queue runs on PostgreSQL')

let failed = false
for (const locale of ['fr', 'en']) {
  console.log(bold(`\n── variant ${locale} ─────────────────────────────────────────────`))
  const r = spawnSync(process.execPath, [vitest, 'run'], { cwd: example, stdio: 'inherit', env: { ...process.env, CARSHARE_LOCALE: locale, CARSHARE_QUEUE: queue.kind } })
  if (r.status !== 0) failed = true
}

console.log(bold('\nWhat rig caught:'))
console.log('  - "DEMO: forgets to delete its rental": the rows it left in public.rentals and public.payments, cleaned before the next test')
console.log('  - "DEMO: triggers an error nobody looked at": the API logged `ERROR payment provider timeout` during that test')
console.log('  (both are marked test.fails, so the suite stays green while the report shows them)\n')
console.log('Open the reports:')
for (const locale of ['fr', 'en']) console.log(`  ${path.relative(process.cwd(), path.join(example, 'rig-report', locale, 'index.html'))}`)
process.exit(failed ? 1 : 0)
