import fs from 'node:fs'
import { loadConfig } from '../../config/load-config.ts'
import { loadDriver } from '../../drivers/load-driver.ts'
import { describeError, RigError } from '../../errors.ts'
import { NODE_RANGE, nodeSupported } from '../../node-version.ts'
import { findBinary } from '../../providers/process/binaries.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { tempRoot, tempRootPath } from '../../fs-safe/temp-root.ts'
import { SERVICE_ACCOUNT, unprivilegedUser } from '../../providers/process/user.ts'
import { postgresKind } from '../../services/postgres/index.ts'
import { rabbitmqKind } from '../../services/rabbitmq/index.ts'
import { redisKind } from '../../services/redis/index.ts'
import { mariadbKind, mysqlKind } from '../../services/mariadb/index.ts'
import type { DoctorEntry, ServiceKind } from '../../services/service-kind.ts'
import type { CommandContext } from '../command.ts'
import { columns } from '../table.ts'

const BUILT_IN: ServiceKind<any>[] = [postgresKind, redisKind, mariadbKind, mysqlKind, rabbitmqKind]

async function systemEntries(): Promise<DoctorEntry[]> {
  const entries: DoctorEntry[] = []
  const nodeOk = nodeSupported(process.versions.node)
  entries.push({ what: 'node', ok: nodeOk, detail: `v${process.versions.node} (${process.execPath})`, ...(nodeOk ? {} : { fix: `install Node.js ${NODE_RANGE} (it loads rig.config.ts as TypeScript), or add the \`node\` package as a devDependency` }) })
  try {
    // Private to this user (made 0700 and checked), or refused with what is wrong and the way out.
    entries.push({ what: 'temp dir', ok: true, detail: tempRoot() })
  } catch (err) {
    entries.push({ what: 'temp dir', ok: false, detail: tempRootPath(), fix: (err as Error).message })
  }
  {
    const dir = cacheRoot()
    let ok = true
    try {
      fs.mkdirSync(dir, { recursive: true })
      fs.accessSync(dir, fs.constants.W_OK)
    } catch {
      ok = false
    }
    entries.push({ what: 'init cache', ok, detail: dir, ...(ok ? {} : { fix: `make ${dir} writable, or set RIG_CACHE_DIR` }) })
  }
  try {
    // Looking must not create the account: that waits for the first start.
    const u = unprivilegedUser({ create: false })
    const root = process.getuid?.() === 0
    const detail = u
      ? `running as root: data servers run as ${u.name} (uid ${u.uid})`
      : root
        ? `running as root: data servers will run as the system account "${SERVICE_ACCOUNT}", created on the first start`
        : 'not root: data servers run as you'
    entries.push({ what: 'service user', ok: true, detail })
  } catch (err) {
    entries.push({ what: 'service user', ok: false, detail: (err as Error).message, fix: `set RIG_SERVICE_USER to a non-root account that owns nothing else, or unset it to use "${SERVICE_ACCOUNT}"` })
  }
  {
    // Only testrig/playwright uses it, for an environment that serves HTTPS: never required here.
    const certutil = findBinary({ name: 'certutil' }).path
    entries.push({
      what: 'certutil',
      ok: certutil !== undefined,
      detail: certutil ? `${certutil} (Chromium in testrig/playwright trusts rig's CA with it)` : "not installed: Chromium in testrig/playwright cannot trust rig's CA for an environment that serves HTTPS",
      fix: 'apt-get install libnss3-tools',
      optional: true,
    })
  }
  return entries
}

/** One line per driver package a kind declares; required when a configured service is of that kind. */
async function driverEntries(kind: ServiceKind<any>): Promise<DoctorEntry[]> {
  return Promise.all(
    (kind.drivers ?? []).map(async ({ package: pkg, purpose }) => {
      const ok = await loadDriver(pkg, purpose).then(() => true, () => false)
      const what = `${kind.name} ${purpose}`
      return { what: `driver ${pkg}`, ok, detail: ok ? `installed (${what})` : `not installed (needed for the ${what})`, ...(ok ? {} : { fix: `npm install --save-dev ${pkg}` }) }
    }),
  )
}

/** `rig doctor`: what rig found on this machine and in the config, and what to install. */
export async function doctor({ values, out }: CommandContext): Promise<number> {
  const used = new Set<string>()
  let config: DoctorEntry | undefined
  try {
    const loaded = await loadConfig(values.config as string | undefined)
    for (const d of Object.values(loaded.config.services)) used.add(d.kind.name)
    config = { what: 'config', ok: true, detail: `${loaded.file} (${[...used].join(', ') || 'no services'})` }
  } catch (err) {
    // No config: report on everything, require nothing. A config that does not load is a problem.
    if (!(err instanceof RigError && err.code === 'RIG_CONFIG_NOT_FOUND' && values.config === undefined)) {
      config = { what: 'config', ok: false, detail: describeError(err).split('\n')[0] ?? '', fix: 'fix the config file (rig up shows the whole error)' }
    }
  }
  const perKind = await Promise.all(BUILT_IN.map(async (k) => [...(await (k.doctor?.() ?? [])), ...(await driverEntries(k))].map((e) => ({ kind: k.name, ...e }))))
  const entries = [...(config ? [config] : []), ...(await systemEntries()), ...perKind.flat()]
  const needed = (e: DoctorEntry): boolean => !e.optional && (e.kind === undefined || used.has(e.kind))
  const failing = entries.filter((e) => !e.ok && needed(e))
  if (values.json) {
    out.json({ ok: failing.length === 0, checks: entries })
  } else {
    const rows = entries.map((e) => [e.ok ? out.s.green('✓') : e.optional || !needed(e) ? out.s.yellow('!') : out.s.red('✗'), e.what, e.detail + (e.fix && !e.ok ? out.s.dim(`  → ${e.fix}`) : '')])
    for (const line of columns(rows)) out.print(line)
    out.print(failing.length === 0 ? out.s.green('\nready') : out.s.red(`\n${failing.length} problem(s): see → above`))
  }
  return failing.length === 0 ? 0 : 1
}
