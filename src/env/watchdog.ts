import { spawn, type ChildProcess } from 'node:child_process'
import { moduleFile } from '../module-file.ts'

/** A running watchdog for one environment. */
export interface Watchdog {
  /** Tells the watchdog the environment was stopped cleanly, so it exits without acting. */
  release(): void
}

/** Starts the detached watchdog process that reaps `envDir` if this process dies. */
export function startWatchdog(envDir: string): Watchdog {
  const script = moduleFile(import.meta.url, './watchdog-main.ts')
  const child: ChildProcess = spawn(process.execPath, ['--no-warnings', script, envDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
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
