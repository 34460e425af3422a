import { spawn } from 'node:child_process'
import { ProbeFailure, type Probe } from './probe.ts'

/** Passes when `cmd` (run by /bin/sh) exits 0. `{host}`, `{port}` and `{url}` are replaced by the service's. */
export function commandSucceeds(cmd: string, options: { timeoutMs?: number; cwd?: string } = {}): Probe {
  return {
    name: `command "${cmd}"`,
    timeoutMs: options.timeoutMs ?? 5000,
    run: (ctx) =>
      new Promise<void>((resolve, reject) => {
        const t = ctx.target
        const line = t ? cmd.replaceAll('{host}', t.host).replaceAll('{port}', String(t.port)).replaceAll('{url}', t.url) : cmd
        const child = spawn('/bin/sh', ['-c', line], { stdio: ['ignore', 'ignore', 'pipe'], signal: ctx.signal, ...(options.cwd ? { cwd: options.cwd } : {}) })
        let stderr = ''
        child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)))
        child.on('error', reject)
        child.on('close', (code, signal) => {
          if (code === 0) resolve()
          else reject(new ProbeFailure('assertion', `exited with ${signal ?? code}${stderr ? `: ${stderr.trim()}` : ''}`))
        })
      }),
  }
}
