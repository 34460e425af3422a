import { execFile } from 'node:child_process'
import type { ServiceUser } from './user.ts'

/** At most `n` lines of a command's output: a tool failing on every file must not flood the terminal. */
function firstLines(text: string, n = 15): string {
  const lines = text.split('\n')
  return lines.length <= n ? text : `${lines.slice(0, n).join('\n')}\n… and ${lines.length - n} more lines`
}

/** Runs a short command to completion and returns its stdout; rejects with stderr included. */
export function run(command: string, args: readonly string[], options: { user?: ServiceUser | undefined; input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024, ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}) },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`${command} ${args.join(' ')} failed: ${firstLines((stderr || stdout || err.message).trim())}`), { cause: err }))
        else resolve(stdout)
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
