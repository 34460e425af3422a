// Which way a PostgreSQL store finds changes: the change log where it can run, counting
// otherwise; and when the log could not be trusted for one check, starting it again at the
// next clean state.
import type { PgClient } from '../../drivers/pg.ts'
import { GuardUsageError } from '../errors.ts'
import type { Catalog } from './catalog.ts'
import { ChangeLog } from './change-log.ts'

/** How a check found the changes: logged by triggers, or counted table by table. */
export type Detection = 'triggers' | 'count'

/** What {@link ChangeDetection.start} needs to know about the store now. */
export interface DetectionContext {
  session: () => Promise<PgClient>
  catalog: Catalog
  shadowSchema: string
  keyLimit: number
  /** The embedded PGlite fallback: no pg_walinspect. */
  embedded: boolean
  /** Rig may write to the store (triggers are writes). */
  writable: boolean
  /** Rig started the server: only then does it add triggers to the schema (an opted-in external store is counted). */
  startedByRig: boolean
  /** A transaction client is in use: its uncommitted rows are only visible in its session. */
  transactionClient: boolean
}

/** The detection state of one store. */
export class ChangeDetection {
  /** The change log, when changes are logged now. */
  log: ChangeLog | undefined
  private reason: string | undefined = 'no baseline yet'
  /** The log could not be trusted for a while: start it again at the next clean state. */
  private restart = false
  /** The log's tables exist in this database (a restore that counted clears the log too). */
  installed = false
  private readonly store: string
  private readonly option: string | undefined

  constructor(store: string, option: string | undefined) {
    this.store = store
    this.option = option
  }

  /** The option, or RIG_GUARD_DETECTION (to compare both paths on one suite). */
  get wanted(): 'auto' | 'triggers' | 'count' {
    const v = this.option ?? process.env.RIG_GUARD_DETECTION ?? 'auto'
    if (v === 'auto' || v === 'triggers' || v === 'count') return v
    throw new GuardUsageError('RIG_GUARD_BAD_DETECTION', `store "${this.store}": detection ${JSON.stringify(v)} is not one of auto, triggers, count (option \`detection\` or RIG_GUARD_DETECTION)`)
  }

  /** How the next check finds changes, and why it counts them when it does. */
  get state(): { method: Detection; reason?: string } {
    return this.log ? { method: 'triggers' } : { method: 'count', ...(this.reason ? { reason: this.reason } : {}) }
  }

  /** True when the log should start again now that the state is clean. */
  get due(): boolean {
    return this.restart
  }

  /**
   * Starts logging at the current (clean) state when the options and the server allow it;
   * `detection: 'triggers'` makes a server that cannot an error.
   */
  async start(ctx: DetectionContext): Promise<void> {
    this.log = undefined
    this.restart = false
    const wanted = this.wanted
    let reason: string | undefined
    if (wanted === 'count') reason = 'detection: count'
    else if (ctx.embedded) reason = 'the embedded PGlite fallback has no pg_walinspect'
    else if (!ctx.writable) reason = `rig may not write to "${this.store}" (triggers)`
    else if (!ctx.startedByRig) reason = `rig did not start "${this.store}": its schema gets no triggers`
    else if (ctx.transactionClient) reason = 'a transaction client is in use'
    else {
      const started = await ChangeLog.start(await ctx.session(), ctx.catalog, { shadowSchema: ctx.shadowSchema, keyLimit: ctx.keyLimit })
      if ('log' in started) this.log = started.log
      else reason = started.reason
      this.installed ||= 'log' in started
    }
    this.reason = reason
    if (reason && wanted === 'triggers') {
      throw new GuardUsageError(
        'RIG_GUARD_LOG_UNAVAILABLE',
        `store "${this.store}": changes cannot be logged: ${reason}. Use detection 'auto' (counts rows instead), or a PostgreSQL 15+ server with contrib where the guard connects as a superuser (as rig starts it).`,
      )
    }
  }

  /** Counts until the baseline is taken again (a transaction client stays in use). */
  stop(reason: string): void {
    this.log = undefined
    this.reason = reason
  }

  /** Counts changes until the next clean state, then logs them again. */
  pause(reason: string): void {
    this.stop(reason)
    this.restart = true
  }
}
