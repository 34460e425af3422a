// How an intake endpoint (sentry(), logSink()) is started: its server script run by this Node
// as a child process of the environment, on the port rig picked, ready when it accepts
// connections. Options shared by their kinds are checked here too.
import { invalid } from '../../config/option-checks.ts'
import { tcp } from '../../probes/tcp.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import type { Launched, StartContext } from '../service-kind.ts'

/** Throws unless `v` is undefined or a positive whole number. */
export function checkPositiveInt(where: string, key: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) invalid(where, key, 'a positive whole number', v)
}

/** The launch of `script` (an absolute path from `moduleFile`) with its JSON config, and what dependents get. */
export function launchIntake(ctx: StartContext, script: string, config: object, exports: Pick<Launched, 'env' | 'plainEnv'>): Launched {
  return {
    host: '127.0.0.1',
    port: ctx.port,
    url: `http://127.0.0.1:${ctx.port}`,
    ...exports,
    provider: 'process',
    launch: () => new ManagedProcess({ command: process.execPath, args: ['--no-warnings', script, JSON.stringify(config)], stopSignal: 'SIGTERM', stopGraceMs: 2000 }, ctx.logs),
    defaultReady: [tcp()],
  }
}
