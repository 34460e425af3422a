// Main-process side of {@link ./handoff.ts}: opens the run (start or attach) and publishes it
// to the workers the runner is about to start; closing stops what it started.
import { publishRun, resultsDir, RUN_VAR, type RunHandoff } from './handoff.ts'
import type { ResolvedRunnerOptions } from './options.ts'
import { openRun, type RunSession } from './run-session.ts'

/** A published run. */
export interface PublishedRun {
  session: RunSession
  handoff: RunHandoff
  /** Stops what the run started (or gives `rig up`'s environment back), and unpublishes it. Once. */
  close(): Promise<void>
}

/** Opens the run and publishes it in `RIG_RUN`. */
export async function openPublishedRun(o: ResolvedRunnerOptions, start: { root: string; workers: number; seed: number }): Promise<PublishedRun> {
  const session = await openRun(o, start)
  const handoff: RunHandoff = {
    provided: session.provided,
    root: start.root,
    resultsDir: resultsDir(),
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
    },
  }
}
