// Process checks for "nothing left running" assertions. A process killed after its parent
// died is reparented to PID 1, which may take seconds to reap it: a zombie counts as gone.
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

interface ProcInfo {
  pid: number
  state: string
  pgrp: number
}

function stat(pid: number): ProcInfo | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return { pid, state: f[0] ?? '?', pgrp: Number(f[2]) }
  } catch {
    return undefined
  }
}

/** True when `pid` runs and is not a zombie. */
export function pidAlive(pid: number): boolean {
  const s = stat(pid)
  return s !== undefined && s.state !== 'Z' && s.state !== 'X'
}

/** Live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    const s = stat(Number(e))
    if (s && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') out.push(s.pid)
  }
  return out
}

/** True when the process or any member of its group is still alive. */
export function groupAlive(pid: number): boolean {
  return pidAlive(pid) || groupMembers(pid).length > 0
}

/** Polls `cond` until it is true or `timeoutMs` passes; returns whether it became true. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return true
    if (Date.now() > end) return false
    await sleep(stepMs)
  }
}

/** Waits until none of the process groups lives; throws naming the survivors otherwise. */
export async function expectGroupsGone(pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  const ok = await waitUntil(() => pids.every((p) => !groupAlive(p)), timeoutMs)
  if (!ok) {
    const alive = pids.filter(groupAlive).map((p) => `${p} [${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}]`)
    throw new Error(`process groups still alive after ${timeoutMs} ms: ${alive.join(', ')}`)
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

/**
 * `pid` and every live process below it, whatever their process group: an Erlang VM's
 * `erl_child_setup` and `inet_gethost` start sessions of their own.
 */
export function processTree(pid: number): number[] {
  const all = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number)
  const out = [pid]
  for (let i = 0; i < out.length; i++) for (const p of all) if (parentOf(p) === out[i] && pidAlive(p)) out.push(p)
  return out.filter(pidAlive)
}

/** Waits until none of `pids` lives; throws naming the survivors otherwise. */
export async function expectPidsGone(pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  const ok = await waitUntil(() => pids.every((p) => !pidAlive(p)), timeoutMs)
  if (!ok) throw new Error(`processes still alive after ${timeoutMs} ms: ${pids.filter(pidAlive).join(', ')}`)
}

/** The crash watchdog of environment dir `dir`: the process whose command line names it (the shell, or Node once it reaps). */
export function watchdogOf(dir: string): number | undefined {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0')
      if (cmd.some((a) => a.endsWith('watchdog-main.ts')) && cmd.includes(dir)) return Number(e)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

/**
 * Resolves with `pick`'s value for the first output of `child` (stdout piped) it accepts, given
 * everything printed so far; rejects with its stderr when it exits first (`what` says what it
 * was waiting for).
 */
export function firstOutput<T>(child: ChildProcess, pick: (out: string) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const got = pick(out)
      if (got !== undefined) resolve(got)
    })
    child.on('exit', (code) => reject(new Error(`process exited (${code}) before ${what}: ${err}`)))
  })
}
