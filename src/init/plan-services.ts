// From a project's dependencies to the services its rig.config.ts starts: a database client
// means a server, a `start` script means the app itself, a client of something rig does not
// start yet means a commented `external()` the user can point at a running one.
import type { ProjectFacts } from './inspect-project.ts'

/** One service `rig init` writes into the config. */
export interface PlannedService {
  /** Its name in the config, e.g. `db`. */
  name: string
  factory: 'postgres' | 'redis' | 'mariadb' | 'rabbitmq' | 'command' | 'external'
  /** The evidence, for the comment above it: e.g. "you use `pg`". */
  because: string
  /** Written commented out, as what it is (e.g. `RabbitMQ`): rig cannot start this kind yet. */
  commented?: string
  /** For `external()`: an address to start from. */
  url?: string
}

/** What `rig init` writes. */
export interface ServicePlan {
  services: PlannedService[]
  /** Driver packages rig needs for the planned services that the project does not have. */
  missingDrivers: string[]
}

/** Client packages per store, in the order they are named in comments. */
const CLIENTS = {
  postgres: ['pg', 'postgres', 'pg-promise'],
  redis: ['redis', 'ioredis', 'bullmq', 'bull'],
  rabbitmq: ['amqplib', 'amqp-connection-manager'],
  mysql: ['mysql2', 'mysql', 'mariadb'],
} as const

/** The driver rig itself loads for a kind it starts. */
const DRIVER = { postgres: 'pg', redis: 'redis', mariadb: 'mysql2', rabbitmq: 'amqplib' } as const

function uses(facts: ProjectFacts, store: keyof typeof CLIENTS): string | undefined {
  const found = CLIENTS[store].filter((d) => facts.deps.has(d))
  return found.length > 0 ? `you use ${found.map((d) => `\`${d}\``).join(' and ')}` : undefined
}

/** Prisma names its database in the schema; without one, `prisma init` defaults to PostgreSQL. */
function prisma(facts: ProjectFacts): { store: 'postgres' | 'mysql' | undefined; because: string } | undefined {
  if (!facts.deps.has('prisma') && !facts.deps.has('@prisma/client')) return undefined
  const p = facts.prismaProvider
  const because = p ? `your Prisma schema's provider is "${p}"` : 'you use Prisma (no schema found: PostgreSQL assumed)'
  if (p === undefined || p === 'postgresql' || p === 'postgres') return { store: 'postgres', because }
  if (p === 'mysql') return { store: 'mysql', because }
  return { store: undefined, because }
}

/** Plans the services of a first rig.config.ts for the project. */
export function planServices(facts: ProjectFacts): ServicePlan {
  const services: PlannedService[] = []
  const viaPrisma = prisma(facts)
  const pgBecause = [uses(facts, 'postgres'), viaPrisma?.store === 'postgres' ? viaPrisma.because : undefined].filter(Boolean).join('; ')
  if (pgBecause) services.push({ name: 'db', factory: 'postgres', because: pgBecause })
  const redisBecause = uses(facts, 'redis')
  if (redisBecause) services.push({ name: 'cache', factory: 'redis', because: redisBecause })
  const mqBecause = uses(facts, 'rabbitmq')
  if (mqBecause) services.push({ name: 'broker', factory: 'rabbitmq', because: mqBecause })
  const mysqlBecause = [uses(facts, 'mysql'), viaPrisma?.store === 'mysql' ? viaPrisma.because : undefined].filter(Boolean).join('; ')
  if (mysqlBecause) services.push({ name: 'mysql', factory: 'mariadb', because: mysqlBecause })
  if (services.every((s) => s.commented) && !facts.scripts.start) {
    services.unshift({ name: 'db', factory: 'postgres', because: 'nothing in package.json names a database: a PostgreSQL to start from, replace it with what your tests need' })
  }
  if (facts.scripts.start) services.push({ name: 'app', factory: 'command', because: `your \`start\` script: ${facts.scripts.start}` })
  const missingDrivers = services.flatMap((s) => (s.factory === 'postgres' || s.factory === 'redis' || s.factory === 'mariadb' || s.factory === 'rabbitmq') && !facts.deps.has(DRIVER[s.factory]) ? [DRIVER[s.factory]] : [])
  return { services, missingDrivers }
}
