// Main-process side of {@link ./handoff.ts}: opens the run (start or attach) and publishes it
// to the workers the runner is about to start; closing stops what it started.
import { backgroundDone } from '../env/environment.ts'
import { ownedTempDir } from '../env/registry.ts'
import { publishRun, removeResults, RUN_VAR, type RunHandoff } from './handoff.ts'
import type { ResolvedRunnerOptions } from './options.ts'
import { openRun, type RunSession } from './run-session.ts'

/** A published run. */
export interface PublishedRun {
  session: RunSession
  handoff: RunHandoff
  /** Stops what the run started (or gives `rig up`'s environment back), and unpublishes it; resolves once the environments' dirs are removed. Once. */
  close(): Promise<void>
}

/**
 * A private dir for one run's verdicts: `runs/<id>` below rig's verified temp root, owned by this
 * process (owner.json), so the next start's stale sweep removes it if this process is killed.
 * Otherwise it goes when this process exits, unless the reporter removed it first once it read it:
 * the reporters read it at the end of the run, some after the global teardown (Playwright's
 * `onEnd`, node:test's reporter), and a run may have none of rig's reporters at all.
 */
export function resultsDir(): string {
  const dir = ownedTempDir('runs')
  process.once('exit', () => {
    try {
      removeResults({ resultsDir: dir })
    } catch {
      // the stale sweep removes it (its owner is dead by then)
    }
  })
  return dir
}

/**
 * Opens the run and publishes it in `RIG_RUN`. Called from the runner's global setup, in the
 * process that starts the workers and lives until the run ends (Jest's main process, node:test's
 * runner, Playwright's runner): it holds the guard for the whole run (`guardHost`, see
 * src/runner/guard-host.ts), and `close` stops it with the rest.
 */
export async function openPublishedRun(o: ResolvedRunnerOptions, start: { root: string; workers: number; seed: number; guardHost?: boolean }): Promise<PublishedRun> {
  // Made first: a temp root that cannot be used fails the run before anything starts.
  const results = resultsDir()
  const session = await openRun(o, { guardHost: true, ...start })
  const handoff: RunHandoff = {
    provided: session.provided,
    root: start.root,
    resultsDir: results,
    report: o.report,
    session: { timeline: session.timeline, startMs: session.startMs, attached: session.attached },
  }
  publishRun(handoff)
  return {
    session,
    handoff,
    async close() {
      delete process.env[RUN_VAR]
      await session.close()
      // Runners may exit as soon as the teardown returns (Playwright; Jest with --forceExit).
      await backgroundDone()
    },
  }
}
