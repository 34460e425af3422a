// While the Erlang VM boots (seconds), "connection refused" says nothing; the broker's own log
// says how far it got. Readiness failures carry that phase, so live progress shows it.
import { ProbeFailure, type Probe } from '../../probes/probe.ts'

const PHASES: ReadonlyArray<[RegExp, string]> = [
  [/Server startup complete/, 'started'],
  [/started TCP listener/, 'opening AMQP listener'],
  [/Running boot step (recovery|empty_db_check|load_definitions|definition_import)/, 'recovering queues and definitions'],
  [/Running boot step database|Waiting for Mnesia tables/, 'opening its database'],
  [/Running boot step pre_boot/, 'running boot steps'],
  [/Starting RabbitMQ|== Boot steps ==/, 'loading the broker'],
]

/** What the broker's log says it is doing, or `starting the Erlang VM` before its first line. */
export function bootPhase(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string
    for (const [re, phase] of PHASES) if (re.test(line)) return phase
  }
  return 'starting the Erlang VM'
}

/** `probe`, with the broker's boot phase added to every failure while it is not up yet. */
export function withBootPhase(probe: Probe): Probe {
  return {
    name: probe.name,
    ...(probe.timeoutMs !== undefined ? { timeoutMs: probe.timeoutMs } : {}),
    async run(ctx) {
      try {
        return await probe.run(ctx)
      } catch (err) {
        if (!ctx.target || !(err instanceof Error) || !/ECONNREFUSED|closed the connection/.test(`${err.message} ${(err as { code?: string }).code ?? ''}`)) throw err
        throw new ProbeFailure('connect', `booting: ${bootPhase(ctx.target.logLines())}`, { cause: err })
      }
    },
  }
}
