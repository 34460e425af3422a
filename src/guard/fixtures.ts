// Named data sets: SQL files or async functions, loaded once and then switched to by restoring
// the snapshot taken right after loading. Tests that need another data set than the baseline
// ask for it by name; the guard then checks every test against that data set.
import fs from 'node:fs'
import path from 'node:path'
import { suggest } from '../config/suggest.ts'
import { RigError } from '../errors.ts'
import type { StoreAdapter } from './adapter.ts'
import { GuardUsageError } from './errors.ts'

/** What a fixture function receives. */
export interface FixtureContext {
  /** Every guarded store's URL, by store (service) name. */
  urls: Record<string, string>
  /** The URL of the store this step loads into (per-store steps only). */
  url?: string
}

/** Loads data with your own code: a driver, your app's repositories, an HTTP API. */
export type FixtureFunction = (ctx: FixtureContext) => unknown

/** One store's part of a fixture: an SQL file (relative to the config file) or a function. */
export type FixtureStep = string | FixtureFunction

/**
 * A named data set: one function for everything, or one step per store name, e.g.
 * `{ db: 'test/fixtures/fleet.sql', cache: async ({ url }) => … }`.
 */
export type FixtureDefinition = FixtureFunction | Readonly<Record<string, FixtureStep>>

/** Fixtures by name. */
export type Fixtures = Readonly<Record<string, FixtureDefinition>>

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,27}$/

/**
 * The internal snapshot holding fixture `name` once loaded by the guard with token `owner`
 * (hidden from `rig snapshot list`). Two guards on one database (the run's and a worker's)
 * must not share, nor drop, each other's snapshots. `name` undefined: the data held before
 * the first fixture.
 */
export const fixtureSnapshot = (owner: string, name: string | undefined): string => `__f${owner}_${name ?? '_base'}`

/** Checks fixture definitions; `where` names their place in messages, `stores` the known store names. */
export function validateFixtures(fixtures: unknown, where: string, stores?: readonly string[]): void {
  if (typeof fixtures !== 'object' || fixtures === null || Array.isArray(fixtures)) {
    throw new GuardUsageError('RIG_FIXTURE_INVALID', `${where}: fixtures must be an object of named data sets, e.g. { fleet: { db: 'test/fixtures/fleet.sql' } }`)
  }
  for (const [name, def] of Object.entries(fixtures)) {
    if (!NAME.test(name)) throw new GuardUsageError('RIG_FIXTURE_INVALID', `${where}: fixture name ${JSON.stringify(name)} is not valid: use 1–28 letters, digits, "-" or "_", starting with a letter or digit`)
    if (typeof def === 'function') continue
    if (typeof def !== 'object' || def === null) {
      throw new GuardUsageError('RIG_FIXTURE_INVALID', `${where}: fixture "${name}" must be a function or an object of steps by store name, e.g. { db: 'test/fixtures/${name}.sql' }`)
    }
    for (const [store, step] of Object.entries(def)) {
      if (stores && !stores.includes(store)) {
        const s = suggest(store, stores)
        throw new GuardUsageError('RIG_FIXTURE_INVALID', `${where}: fixture "${name}" loads into "${store}", which is not a service${s ? ` — did you mean "${s}"?` : ''} (services: ${stores.join(', ')})`)
      }
      if (typeof step !== 'string' && typeof step !== 'function') {
        throw new GuardUsageError('RIG_FIXTURE_INVALID', `${where}: fixture "${name}", store "${store}": a step is an SQL file path or a function, got ${JSON.stringify(step)}`)
      }
    }
  }
}

/** The definition of fixture `name`, or a clear error listing the known ones. */
export function fixtureNamed(fixtures: Fixtures | undefined, name: string): FixtureDefinition {
  const def = fixtures?.[name]
  if (def) return def
  const known = Object.keys(fixtures ?? {})
  const s = suggest(name, known)
  throw new GuardUsageError(
    'RIG_FIXTURE_UNKNOWN',
    `no fixture "${name}"${s ? ` — did you mean "${s}"?` : ''} (fixtures: ${known.join(', ') || 'none; declare them with `fixtures: { name: … }` in rig.config.ts'})`,
  )
}

/** A fixture step that failed: which fixture, which store, which file and line. */
export class FixtureError extends RigError {
  constructor(fixture: string, store: string | undefined, message: string, cause?: unknown) {
    super('RIG_FIXTURE_FAILED', `fixture "${fixture}"${store ? ` (store "${store}")` : ''} failed to load: ${message}`, { cause })
    this.name = 'FixtureError'
  }
}

/** `1-based line:column` of a character offset in `text`. */
function lineOf(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset - 1)).split('\n')
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`
}

/**
 * Loads fixture `name` into `stores`. SQL files are read relative to `root` and run by the
 * store they name (PostgreSQL runs them as one script).
 */
export async function loadFixture(name: string, def: FixtureDefinition, stores: readonly StoreAdapter[], root: string): Promise<void> {
  const urls = Object.fromEntries(stores.flatMap((s) => (s.url ? [[s.info.name, s.url]] : [])))
  if (typeof def === 'function') {
    try {
      await def({ urls })
    } catch (err) {
      throw new FixtureError(name, undefined, (err as Error).message ?? String(err), err)
    }
    return
  }
  for (const [storeName, step] of Object.entries(def)) {
    const store = stores.find((s) => s.info.name === storeName)
    if (!store) throw new FixtureError(name, storeName, `"${storeName}" is not a guarded store (guarded: ${stores.map((s) => s.info.name).join(', ') || 'none'})`)
    if (typeof step === 'function') {
      try {
        await step({ urls, url: urls[storeName] })
      } catch (err) {
        throw new FixtureError(name, storeName, (err as Error).message ?? String(err), err)
      }
      continue
    }
    const file = path.resolve(root, step)
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      throw new FixtureError(name, storeName, `cannot read ${file}: check the path (relative to ${root})`)
    }
    if (!store.runScript) throw new FixtureError(name, storeName, `a ${store.info.kind} store cannot run ${path.basename(file)}: load it with a function instead`)
    try {
      await store.runScript(text)
    } catch (err) {
      const position = Number((err as { position?: unknown }).position)
      const at = Number.isFinite(position) && position > 0 ? `:${lineOf(text, position)}` : ''
      throw new FixtureError(name, storeName, `${path.relative(process.cwd(), file) || file}${at}: ${(err as Error).message}`, err)
    }
  }
}
