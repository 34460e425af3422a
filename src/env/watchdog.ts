import { spawn, type ChildProcess } from 'node:child_process'
import { moduleFile } from '../module-file.ts'

/** A running watchdog for one environment. */
export interface Watchdog {
  /** Tells the watchdog the environment was stopped cleanly, so it exits without acting. */
  release(): void
}

// The watchdog waits as a shell (a few hundred KB, no start-up work) and becomes Node only when
// it has something to do: at "done" it exits; at end of input without it (the owner died) it
// execs watchdog-main.ts, which finds its input closed and reaps the environment. Starting
// Node for every environment cost ~50 ms of CPU, on 2 cores taken from the server starting
// beside it, and ~40 MB of memory per environment for as long as it ran.
const WAIT = `trap '' INT HUP; IFS= read -r line; [ "$line" = done ] && exit 0; exec "$1" --no-warnings "$2" "$3"`
const SHELL = '/bin/sh'

/**
 * Starts the detached watchdog process that reaps `envDir` if this process dies. When the
 * shell cannot be started, the watchdog is Node itself (watchdog-main.ts), with a warning on
 * stderr; when that fails too, it throws: an environment never runs without its watchdog.
 */
export async function startWatchdog(envDir: string): Promise<Watchdog> {
  const script = moduleFile(import.meta.url, './watchdog-main.ts')
  const shell = await spawned(SHELL, ['-c', WAIT, 'rig-watchdog', process.execPath, script, envDir])
  if (!(shell instanceof Error)) return watching(shell)
  process.stderr.write(`rig: warning: the watchdog could not start as ${SHELL} (${shell.message}); it runs as Node instead (~40 MB for the environment's life)\n`)
  const node = await spawned(process.execPath, ['--no-warnings', script, envDir])
  if (!(node instanceof Error)) return watching(node)
  throw new Error(`rig could not start the environment's watchdog, which stops its services if this process dies: ${SHELL} failed (${shell.message}) and ${process.execPath} failed (${node.message}). Check that both exist and can be executed, and the process limits (ulimit -u, ulimit -n).`)
}

/** A started watchdog, which this process does not wait for. */
function watching(child: ChildProcess): Watchdog {
  child.stdin?.on('error', () => {})
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return {
    release() {
      child.stdin?.end('done\n')
    },
  }
}

/** Spawns a detached watchdog and resolves once it runs, or with the error that kept it from running. */
function spawned(file: string, args: string[]): Promise<ChildProcess | Error> {
  return new Promise((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(file, args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
    } catch (err) {
      resolve(err instanceof Error ? err : new Error(String(err)))
      return
    }
    child.once('spawn', () => resolve(child))
    child.on('error', (err) => resolve(err))
  })
}
