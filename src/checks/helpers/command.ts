// expectCommand: a program the deployment relies on runs and exits as expected.
import { spawn } from 'node:child_process'
import { ProbeFailure } from '../../probes/probe.ts'
import { note, signalFor } from '../context.ts'
import { failure } from './_fail.ts'
import type { TextMatcher } from './http.ts'

/** Options of {@link expectCommand}. */
export interface ExpectCommandOptions {
  /** @default 0 */
  exitCode?: number
  /** Expectation on stdout. */
  stdout?: TextMatcher
  cwd?: string
  /** Extra environment variables. */
  env?: Record<string, string>
  signal?: AbortSignal
}

/** What the command printed. */
export interface CommandSeen {
  exitCode: number | null
  stdout: string
  stderr: string
}

const tail = (s: string): string => (s.length > 500 ? `…${s.slice(-500)}` : s).trim()

/**
 * Runs `command` (a string goes through /bin/sh; an array runs without a shell) and checks its
 * exit code and output. The process is killed when the check's signal aborts.
 */
export async function expectCommand(command: string | readonly string[], options: ExpectCommandOptions = {}): Promise<CommandSeen> {
  const [file, ...args] = typeof command === 'string' ? ['/bin/sh', '-c', command] : command
  const shown = typeof command === 'string' ? command : command.join(' ')
  if (!file) throw new ProbeFailure('assertion', 'expectCommand() got an empty command')
  const signal = signalFor(options.signal)
  const seen = await new Promise<CommandSeen>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}), ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...process.env, ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-64_000)))
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64_000)))
    child.once('error', (err) => reject(err.name === 'AbortError' ? (signal?.reason ?? err) : failure(`command "${shown}"`, err)))
    child.once('close', (code) => resolve({ exitCode: code, stdout, stderr }))
  })
  const expected = options.exitCode ?? 0
  if (seen.exitCode !== expected) throw new ProbeFailure('assertion', `command "${shown}" exited with ${seen.exitCode ?? 'a signal'}, expected ${expected}${seen.stderr ? `: ${tail(seen.stderr)}` : ''}`)
  const m = options.stdout
  if (m !== undefined && !(typeof m === 'string' ? seen.stdout.includes(m) : m instanceof RegExp ? m.test(seen.stdout) : m(seen.stdout))) {
    throw new ProbeFailure('assertion', `command "${shown}": stdout does not match ${String(m)}: ${tail(seen.stdout)}`)
  }
  note(`exited with ${seen.exitCode}`)
  return seen
}
