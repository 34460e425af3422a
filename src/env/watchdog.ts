import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'
import { moduleFile } from '../module-file.ts'
import { procInfo } from './proc.ts'

/** A running watchdog for one environment. */
export interface Watchdog {
  /**
   * Tells the watchdog the environment was stopped cleanly (its dir is gone): it no longer acts
   * for it, and waits for the next environment this process starts (see {@link startWatchdog}).
   */
  release(): void
}

// The watchdog waits as a shell (a few hundred KB, no start-up work) and becomes Node only when
// it has something to do: at "done" it exits; at end of input without it (the owner died) it
// runs watchdog-main.ts, which finds its input closed and reaps the environment. Starting
// Node for every environment cost ~50 ms of CPU, on 2 cores taken from the server starting
// beside it, and ~40 MB of memory per environment for as long as it ran.
//
// A released watchdog is not ended but kept for the next environment of this process (one idle
// shell at most): that start hands it its dir as a line instead of spawning a new one. A spawn
// forks this process, and a fork costs in proportion to its memory (a test runner's main process
// holds hundreds of MB): ~9 ms of a 74 ms warm `postgres()` start even on a quiet machine. Input
// lines: an absolute path (the dir to watch), `free` (that environment is gone: watch nothing),
// `done` (exit). At end of input (the owner died) it reaps the dir it watches, if any, else exits.
// `backgroundDone()` ends an idle one, so a run that waits for it leaves no process behind.
//
// Node runs only when the owner died, maybe hours later: its binary or rig's files may have been
// removed or upgraded meanwhile (a reinstall, `npm ci`, a new Node). When it fails, the shell
// kills the recorded process groups itself, from the env dir's `groups` file (one line per group:
// leader pid, start time, uid; see registry.ts), with the same proof of identity as proc.ts's
// killGroup: a leader that runs with the recorded start time and uid, or, once the leader has
// exited, a live member of the group that runs as the recorded uid and started after it. Then it
// removes the env dir.
const WAIT = [
  "trap '' INT HUP",
  'dir=$3',
  'while IFS= read -r line; do',
  '  case $line in done) exit 0;; free) dir=;; /*) dir=$line;; esac',
  'done',
  '[ -n "$dir" ] || exit 0',
  '"$1" --no-warnings "$2" "$dir" && exit 0',
  // st: state, pg: process group, t: start time of process $1; false when it is gone.
  'info() { { IFS= read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1; set -- ${s##*) }; st=$1 pg=$3 t=${20}; }',
  'uid_of() { u=; { while read -r k r x; do [ "$k" = Uid: ] && { u=$r; return 0; }; done < "/proc/$1/status"; } 2>/dev/null; }',
  'num() { case $1 in ""|*[!0-9]*) return 1;; esac; }',
  // Stopped, its dir renamed, and the owner gone before it was removed: nothing runs any more.
  'if [ ! -e "$dir" ] && [ -d "$dir.removed" ] && [ ! -L "$dir.removed" ]; then rm -rf -- "$dir.removed"; exit 0; fi',
  '[ -d "$dir" ] && [ ! -L "$dir" ] && [ -O "$dir" ] && [ -f "$dir/groups" ] && [ ! -L "$dir/groups" ] || exit 1',
  'while read -r pid start uid; do',
  '  num "$pid" && num "$start" && [ "$pid" -gt 1 ] || continue',
  '  if info "$pid"; then',
  '    [ "$t" = "$start" ] || continue',
  '    uid_of "$pid"; [ "$uid" = - ] || [ "$u" = "$uid" ] || continue',
  '    kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid" 2>/dev/null',
  '  else',
  '    num "$uid" || continue',
  '    for p in /proc/[0-9]*; do',
  '      p=${p#/proc/}',
  '      info "$p" && [ "$pg" = "$pid" ] && [ "$st" != Z ] && [ "$st" != X ] && [ "$t" -ge "$start" ] || continue',
  '      uid_of "$p"; [ "$u" = "$uid" ] || continue',
  '      kill -s KILL -- "-$pid" 2>/dev/null; break',
  '    done',
  '  fi',
  'done < "$dir/groups"',
  'rm -rf -- "$dir"',
].join('\n')
const SHELL = '/bin/sh'

/**
 * Starts the detached watchdog process that reaps `envDir` if this process dies. When the
 * shell cannot be started, the watchdog is Node itself (watchdog-main.ts), with a warning on
 * stderr; when that fails too, it throws: an environment never runs without its watchdog.
 * Throws first when Node or watchdog-main.ts cannot be used now (a broken installation).
 */
export async function startWatchdog(envDir: string): Promise<Watchdog> {
  const script = moduleFile(import.meta.url, './watchdog-main.ts')
  usable(process.execPath, fs.constants.X_OK, 'Node')
  usable(script, fs.constants.R_OK, "rig's watchdog script")
  const kept = idle
  idle = undefined
  // The kept shell takes an absolute path on one line (its own working dir is the one of its
  // spawn; a newline would make the path two lines): any other dir gets a watchdog of its own.
  if (kept && waiting(kept) && path.isAbsolute(envDir) && !envDir.includes('\n')) {
    kept.stdin?.write(`${envDir}\n`)
    return watching(kept, true)
  }
  kept?.stdin?.end('done\n')
  const shell = await spawned(SHELL, ['-c', WAIT, 'rig-watchdog', process.execPath, script, envDir])
  if (!(shell instanceof Error)) return watching(shell, true)
  process.stderr.write(`rig: warning: the watchdog could not start as ${SHELL} (${shell.message}); it runs as Node instead (~40 MB for the environment's life)\n`)
  const node = await spawned(process.execPath, ['--no-warnings', script, envDir])
  if (!(node instanceof Error)) return watching(node)
  throw new Error(`rig could not start the environment's watchdog, which stops its services if this process dies: ${SHELL} failed (${shell.message}) and ${process.execPath} failed (${node.message}). Check that both exist and can be executed, and the process limits (ulimit -u, ulimit -n).`)
}

/** Throws a clear error when `file` (what the watchdog runs) cannot be used as `mode` says. */
function usable(file: string, mode: number, what: string): void {
  try {
    fs.accessSync(file, mode)
  } catch (err) {
    throw new RigError('RIG_WATCHDOG_UNAVAILABLE', `rig cannot start the environment's watchdog, which stops its services if this process dies: ${what} ${file} cannot be ${mode === fs.constants.X_OK ? 'executed' : 'read'} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Reinstall testrig (and its Node) and run again.`)
  }
}

/** A released shell watchdog, kept for this process's next environment. */
let idle: ChildProcess | undefined

/**
 * Whether a kept watchdog still waits for input: not exited, not a zombie (killed, not yet
 * reaped by the event loop), its input open.
 */
function waiting(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null || !child.stdin?.writable || child.pid === undefined) return false
  const info = procInfo(child.pid)
  return info !== undefined && info.state !== 'Z' && info.state !== 'X'
}

/**
 * Ends the watchdog kept for a next environment, if any (`backgroundDone()`); resolves once it
 * has exited (it only reads its input: `done` ends it at once), so that nothing of rig's runs
 * after, or after {@link IDLE_END_MS} should it not.
 */
export async function endIdleWatchdog(): Promise<void> {
  const child = idle
  idle = undefined
  if (!child) return
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stdin?.end('done\n')
  let timer: NodeJS.Timeout | undefined
  // The child is unref'd: the timer keeps this process alive while it waits.
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, IDLE_END_MS)))])
  clearTimeout(timer)
}

/** How long {@link endIdleWatchdog} waits for the kept watchdog to exit. */
const IDLE_END_MS = 2000

/**
 * A started watchdog, which this process does not wait for. A shell's (`reusable`) is kept at
 * release for the next start, unless one is kept already.
 */
function watching(child: ChildProcess, reusable = false): Watchdog {
  if (child.listenerCount('error') === 0) child.on('error', () => {})
  if (child.stdin?.listenerCount('error') === 0) child.stdin.on('error', () => {})
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  let released = false
  return {
    release() {
      if (released) return
      released = true
      if (reusable && idle === undefined && waiting(child)) {
        child.stdin?.write('free\n')
        idle = child
      } else {
        child.stdin?.end('done\n')
      }
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
