// `rig snapshot save|restore|list|drop NAME`: named snapshots of every data store of the
// environment `rig up` left running, at once (PostgreSQL as template databases, MariaDB/MySQL as
// database copies, Redis and RabbitMQ as files).
import { GuardUsageError } from '../../guard/errors.ts'
import { createGuard } from '../../guard/guard.ts'
import { storesFor } from '../../guard/stores-for.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import { commandNamed } from './index.ts'

const ACTIONS = ['save', 'restore', 'list', 'drop'] as const
type Action = (typeof ACTIONS)[number]
const USAGE = commandNamed('snapshot')?.usage ?? 'rig snapshot --help'

/** `rig snapshot`: saves, restores, lists or drops a snapshot of every data store. */
export async function snapshot({ values, positionals, out }: CommandContext): Promise<number> {
  const [action, name, ...extra] = positionals
  if (!ACTIONS.includes(action as Action)) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `say what to do: ${USAGE}`)
  if (action !== 'list' && !name) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `rig snapshot ${action} needs a NAME`)
  if (extra.length > 0 || (action === 'list' && name)) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `unexpected argument ${JSON.stringify(extra[0] ?? name)}: ${USAGE}`)
  const state = requireRunning(projectRoot(values.config as string | undefined))
  const only = values.only as string[] | undefined
  const unknown = (only ?? []).filter((s) => !(s in state.services))
  if (unknown.length > 0) throw new GuardUsageError('RIG_UNKNOWN_SERVICE', `no service ${unknown.map((u) => `"${u}"`).join(', ')} (services: ${Object.keys(state.services).join(', ')})`)
  const allow = (values.allow as string[] | undefined) ?? []
  const all = storesFor(state, only ? { only } : {})
  // A store rig did not start (an external() database) is only written to when named.
  const stores = action === 'list' ? all : all.filter((s) => s.info.startedByRig || allow.includes(s.info.name) || only?.includes(s.info.name))
  const skipped = all.filter((s) => !stores.includes(s)).map((s) => s.info.name)
  if (stores.length === 0) throw new GuardUsageError('RIG_SNAPSHOT_NO_STORES', `the environment has no PostgreSQL, MariaDB/MySQL, Redis or RabbitMQ service${skipped.length > 0 ? ` rig started (${skipped.join(', ')}: add --allow NAME)` : ''} to snapshot`)
  if (skipped.length > 0) out.info(`left out ${skipped.join(', ')}: rig did not start ${skipped.length === 1 ? 'it' : 'them'} (--allow NAME to include)`)
  await using guard = createGuard({ stores, mode: 'clean', allowClean: allow })
  const names = stores.map((s) => s.info.name)
  const t0 = performance.now()
  switch (action as Action) {
    case 'list': {
      const list = await guard.listSnapshots()
      if (values.json) out.json({ snapshots: list })
      else if (list.length === 0) out.info('no snapshots yet: rig snapshot save NAME')
      else for (const s of list) out.print(`${s.name}  ${out.s.dim(s.stores.join(', '))}`)
      return 0
    }
    case 'save':
      await guard.saveSnapshot(name as string)
      break
    case 'restore':
      await guard.restoreSnapshot(name as string)
      break
    case 'drop':
      if (!(await guard.dropSnapshot(name as string))) throw new GuardUsageError('RIG_SNAPSHOT_NOT_FOUND', `no snapshot "${name}" to drop (see rig snapshot list)`)
      break
  }
  const ms = Math.round(performance.now() - t0)
  if (values.json) out.json({ action, name, stores: names, ms })
  else out.print(`${action === 'save' ? 'saved' : action === 'restore' ? 'restored' : 'dropped'} snapshot "${name}" (${names.join(', ')}) in ${ms} ms`)
  return 0
}
