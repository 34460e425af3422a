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

/** Starts the detached watchdog process that reaps `envDir` if this process dies. */
export function startWatchdog(envDir: string): Watchdog {
  const script = moduleFile(import.meta.url, './watchdog-main.ts')
  const child: ChildProcess = spawn('/bin/sh', ['-c', WAIT, 'rig-watchdog', process.execPath, script, envDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  child.on('error', () => {})
  child.stdin?.on('error', () => {})
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return {
    release() {
      child.stdin?.end('done\n')
    },
  }
}
