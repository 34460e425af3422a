import fs from 'node:fs'
import { loadConfig } from '../../config/load-config.ts'
import { loadDriver } from '../../drivers/load-driver.ts'
import { cacheRoot, tempRoot } from '../../providers/process/cache-dir.ts'
import { unprivilegedUser } from '../../providers/process/user.ts'
import { postgresKind } from '../../services/postgres/index.ts'
import { redisKind } from '../../services/redis/index.ts'
import type { DoctorEntry, ServiceKind } from '../../services/service-kind.ts'
import type { Command } from '../command.ts'
import { columns } from '../table.ts'

const BUILT_IN: ServiceKind<any>[] = [postgresKind, redisKind]

async function systemEntries(): Promise<DoctorEntry[]> {
  const entries: DoctorEntry[] = []
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  const nodeOk = major > 22 || (major === 22 && minor >= 18)
  entries.push({ what: 'node', ok: nodeOk, detail: `v${process.versions.node} (${process.execPath})`, ...(nodeOk ? {} : { fix: 'install Node.js ≥ 22.18 (it runs rig.config.ts natively), or add the `node` package as a devDependency' }) })
  for (const [what, dir] of [['temp dir', tempRoot()], ['init cache', cacheRoot()]] as const) {
    let ok = true
    try {
      fs.mkdirSync(dir, { recursive: true })
      fs.accessSync(dir, fs.constants.W_OK)
    } catch {
      ok = false
    }
    entries.push({ what, ok, detail: dir, ...(ok ? {} : { fix: `make ${dir} writable, or set ${what === 'temp dir' ? 'RIG_TMP_DIR' : 'RIG_CACHE_DIR'}` }) })
  }
  try {
    const u = unprivilegedUser()
    entries.push({ what: 'service user', ok: true, detail: u ? `running as root: servers that refuse root run as ${u.name} (uid ${u.uid})` : 'not root: servers run as you' })
  } catch (err) {
    entries.push({ what: 'service user', ok: false, detail: (err as Error).message, fix: 'set RIG_SERVICE_USER to a non-root user' })
  }
  for (const [pkg, purpose] of [['pg', 'PostgreSQL probes and guard'], ['redis', 'Redis guard']] as const) {
    const ok = await loadDriver(pkg, purpose).then(() => true, () => false)
    entries.push({ what: `driver ${pkg}`, ok, optional: true, detail: ok ? `installed (${purpose})` : `not installed (needed for ${purpose})`, ...(ok ? {} : { fix: `npm install --save-dev ${pkg}` }) })
  }
  return entries
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check which binaries and drivers rig can use, and what to install',
  usage: 'rig doctor [--json]',
  details: 'Exit code 1 when something a service in rig.config.ts needs is missing.',
  options: { json: { type: 'boolean', description: 'print the findings as JSON' } },
  async run({ values, out }) {
    const used = new Set<string>()
    try {
      const loaded = await loadConfig(values.config as string | undefined)
      for (const d of Object.values(loaded.config.services)) used.add(d.kind.name)
    } catch {
      // no config: report on everything, require nothing
    }
    const kinds = BUILT_IN
    const perKind = await Promise.all(kinds.map(async (k) => (await (k.doctor?.() ?? [])).map((e) => ({ kind: k.name, ...e }))))
    const entries = [...(await systemEntries()), ...perKind.flat()]
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
  },
}
