// Work a process leaves running after a stop: the removal of a stopped environment's dir, and
// what a service kind does after a start for the next one (a spare PostgreSQL data dir being
// copied, in a detached process of its own). A process that exits right after its last stop (a
// test runner after its teardown, a CLI command) waits for it with {@link backgroundDone}:
// otherwise a removal is cut short (`<id>.removed` left behind) or a copy is still running
// once the run has ended.
import { keepAlive } from './keep-alive.ts'
import { endIdleWatchdog } from './watchdog.ts'

/** How long {@link backgroundDone} waits for a kind's work (not for removals, which always end). */
export const BACKGROUND_WAIT_MS = 30_000

const removals = new Set<Promise<void>>()
const work = new Set<Promise<void>>()

function add(set: Set<Promise<void>>, p: Promise<void>): Promise<void> {
  const tracked: Promise<void> = p.catch(() => {}).finally(() => set.delete(tracked))
  set.add(tracked)
  return tracked
}

/** Records the removal of a stopped environment's dir (it keeps the event loop alive). */
export function removalUnderWay(removal: Promise<void>): Promise<void> {
  return add(removals, keepAlive(removal))
}

/** Records a kind's work after a start; it does not keep the process alive by itself. */
export function workInBackground(p: Promise<void>): void {
  void add(work, p)
}

/**
 * Resolves once every removal this process started is done and its kinds' background work has
 * ended, or after {@link BACKGROUND_WAIT_MS} of waiting for that work (which then goes on alone).
 * The watchdog kept for this process's next environment (watchdog.ts) is left waiting.
 */
export async function backgroundSettled(): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, BACKGROUND_WAIT_MS)
  })
  const settled = async (): Promise<void> => {
    while (work.size > 0) await Promise.all(work)
  }
  try {
    await Promise.all([Promise.all(removals), Promise.race([settled(), limit])])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * {@link backgroundSettled}, then the watchdog kept for a next environment is ended: once it
 * resolves, nothing this process started for rig runs any more.
 */
export async function backgroundDone(): Promise<void> {
  await backgroundSettled()
  await endIdleWatchdog()
}
