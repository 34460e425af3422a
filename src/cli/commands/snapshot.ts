// `rig snapshot save|restore|list|drop NAME`: named snapshots of every data store of the
// environment `rig up` left running, at once (PostgreSQL as template databases, MariaDB/MySQL as
// database copies, Redis and RabbitMQ as files).
import { GuardUsageError } from '../../guard/errors.ts'
import { createGuard } from '../../guard/guard.ts'
import { storesFor } from '../../guard/stores-for.ts'
import type { Command } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'

const ACTIONS = ['save', 'restore', 'list', 'drop'] as const
type Action = (typeof ACTIONS)[number]

/** The `rig snapshot` command. */
export const snapshot: Command = {
  name: 'snapshot',
  summary: 'save, restore, list or drop a named snapshot of every data store at once',
  usage: 'rig snapshot save NAME | restore NAME | list | drop NAME [--only STORE]... [--allow STORE]... [--json]',
  details:
    'Works on the environment `rig up` is running. PostgreSQL databases are copied as template databases on the same server, MariaDB/MySQL databases as databases copied with SQL ' +
    '(sessions connected to the database are closed during the copy, applications reconnect); Redis databases are written to files; ' +
    'RabbitMQ vhosts (queues, exchanges, bindings and queued messages, which saving marks redelivered) too.\n' +
    'Stores rig did not start (external() databases) are left out; --allow STORE includes one (rig then writes to it). ' +
    'A restore first checks that every store has the snapshot and can read it; if a store still fails, it says what each store holds. Refuses under NODE_ENV=production.',
  options: {
    only: { type: 'string', multiple: true, value: 'STORE', description: 'only this store (repeatable); default: every PostgreSQL, MariaDB/MySQL, Redis and RabbitMQ service' },
    allow: { type: 'string', multiple: true, value: 'STORE', description: 'include this store although rig did not start it: save, restore and drop write to it (repeatable)' },
    json: { type: 'boolean', description: 'print JSON: {"action", "name", "stores"} or {"snapshots": [{"name", "stores"}]}' },
  },
  positionals: true,
  async run({ values, positionals, out }) {
    const [action, name, ...extra] = positionals
    if (!ACTIONS.includes(action as Action)) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `say what to do: ${snapshot.usage}`)
    if (action !== 'list' && !name) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `rig snapshot ${action} needs a NAME`)
    if (extra.length > 0 || (action === 'list' && name)) throw new GuardUsageError('RIG_SNAPSHOT_USAGE', `unexpected argument ${JSON.stringify(extra[0] ?? name)}: ${snapshot.usage}`)
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
  },
}
