import { execFile } from 'node:child_process'
import type { ServiceUser } from './user.ts'

/** Runs a short command to completion and returns its stdout; rejects with stderr included. */
export function run(command: string, args: readonly string[], options: { user?: ServiceUser | undefined; input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024, ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}) },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim()}`), { cause: err }))
        else resolve(stdout)
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
