// The text of the rig.config.ts `rig init` writes: every service with a comment saying why it
// is there and how to change it, so the file teaches the config as it is read.
import type { PlannedService, ServicePlan } from './plan-services.ts'

const ENV_VAR = { postgres: 'DATABASE_URL', redis: 'REDIS_URL', mariadb: 'MYSQL_URL', rabbitmq: 'AMQP_URL' } as Partial<Record<PlannedService['factory'], string>>

function app(s: PlannedService, stores: PlannedService[]): string[] {
  const deps = stores.map((d) => d.name)
  const vars = stores.flatMap((d) => (ENV_VAR[d.factory] ? [`${ENV_VAR[d.factory]}: ${d.name}.url`] : []))
  const env = deps.length > 0 ? `({ ${deps.join(', ')} }) => ({ ${[...vars, "PORT: '{port}'"].join(', ')} })` : `{ PORT: '{port}' }`
  return [
    `    // Your app (${s.because}), started once its dependencies are ready,`,
    '    // with their addresses in its env and a free port in PORT.',
    `    ${s.name}: command({`,
    "      run: 'npm start',",
    ...(deps.length > 0 ? [`      dependsOn: [${deps.map((d) => `'${d}'`).join(', ')}],`] : []),
    `      env: ${env},`,
    '      // Ready once it accepts connections on PORT; to wait for a route instead',
    "      // (import `http` from 'testrig'): ready: http('/health'),",
    '    }),',
  ]
}

function store(s: PlannedService): string[] {
  if (s.factory === 'postgres') {
    return [`    // PostgreSQL (${s.because}): a real server from local binaries, on a free port, data in a temp dir.`, "    // Tests and dependents get its address as RIG_DB_URL; options: version, database, settings…", `    ${s.name}: postgres({ database: 'app' }),`]
  }
  if (s.factory === 'mariadb') {
    return [`    // MariaDB (${s.because}): a real server from local binaries, on a free port, its own random password.`, `    // Tests and dependents get its address as RIG_${s.name.toUpperCase()}_URL (mysql://…); options: database, user, settings…`, `    ${s.name}: mariadb({ database: 'app' }),`]
  }
  if (s.factory === 'redis') return [`    // Redis (${s.because}), in memory, on a free port (RIG_CACHE_URL).`, `    ${s.name}: redis(),`]
  if (s.factory === 'rabbitmq') {
    return [`    // RabbitMQ (${s.because}): rig's own broker, its URL with a generated password in`, `    // RIG_${s.name.toUpperCase()}_URL (amqp://…). It boots in seconds: keep one running with \`npx rig up\`.`, `    ${s.name}: rabbitmq(),`]
  }
  return [`    // ${s.commented} (${s.because}): rig does not start it yet; to use a running one`, `    // (import \`external\` from 'testrig'):`, `    // ${s.name}: external({ url: '${s.url}' }),`]
}

/** Renders the config file for `plan`. */
export function renderConfig(plan: ServicePlan): string {
  const live = plan.services.filter((s) => !s.commented)
  const stores = live.filter((s) => s.factory === 'postgres' || s.factory === 'redis' || s.factory === 'mariadb' || s.factory === 'rabbitmq')
  const factories = ['defineConfig', ...live.map((s) => s.factory)]
  const lines = [
    '// The services your tests run against, for `npx rig up`, `npx rig run -- CMD` and the test',
    '// runner plugin. Written by `rig init` from package.json: edit it freely. Every option is',
    "// typed: your editor completes them. Reference: node_modules/testrig/README.md",
    `import { ${[...new Set(factories)].join(', ')} } from 'testrig'`,
    '',
    'export default defineConfig({',
    '  services: {',
  ]
  for (const s of plan.services) if (s.factory !== 'command') lines.push(...store(s))
  for (const s of live) if (s.factory === 'command') lines.push(...app(s, stores))
  lines.push('  },', '})', '')
  return lines.join('\n')
}
