// `logSink()`: a local log aggregator for apps that ship structured logs instead of printing
// them. Each record becomes a line of the service's log, its level first, so an error record
// the app shipped during a test fails that test like an error line of its own output.
import { check } from '../../config/option-checks.ts'
import { moduleFile } from '../../module-file.ts'
import { checkPositiveInt, launchIntake } from '../intake/launch.ts'
import { defineService, type CommonOptions, type ServiceDefinition, type ServiceKind } from '../service-kind.ts'
import type { SinkConfig } from './server.ts'

/** Options of {@link logSink}. */
export interface LogSinkOptions {
  /**
   * Records accepted per second (a burst of one second's worth); beyond it they are dropped,
   * counted (HTTP: 429) and told in an `error dropped …` line.
   * @default 2000
   */
  maxRecordsPerSecond?: number
  /**
   * Largest HTTP body, on the wire and once decompressed (413 beyond it).
   * @default 5 MiB
   */
  maxBodyBytes?: number
  /**
   * Longest syslog message; a longer one closes its TCP connection, counted.
   * @default 64 KiB
   */
  maxRecordBytes?: number
  /**
   * Also take syslog over UDP on the same port number.
   * @default true
   */
  udp?: boolean
}

const logSinkKind: ServiceKind<LogSinkOptions> = {
  name: 'logSink',
  optionKeys: ['maxRecordsPerSecond', 'maxBodyBytes', 'maxRecordBytes', 'udp'],
  // One line per record, its level first; rejected requests and drops are `error` lines too.
  errorPatterns: [/^(error|fatal) /],
  validate(o, where) {
    checkPositiveInt(where, 'maxRecordsPerSecond', o.maxRecordsPerSecond)
    checkPositiveInt(where, 'maxBodyBytes', o.maxBodyBytes)
    checkPositiveInt(where, 'maxRecordBytes', o.maxRecordBytes)
    check.boolean(where, 'udp', o.udp)
  },
  async start(ctx, o) {
    const config: SinkConfig = { port: ctx.port, maxRecordsPerSecond: o.maxRecordsPerSecond ?? 2000, maxBodyBytes: o.maxBodyBytes ?? 5 * 1024 * 1024, maxRecordBytes: o.maxRecordBytes ?? 64 * 1024, udp: o.udp ?? true }
    const env: Record<string, string> = { SYSLOG_URL: `tcp://127.0.0.1:${ctx.port}` }
    if (config.udp) env.SYSLOG_UDP_URL = `udp://127.0.0.1:${ctx.port}`
    return launchIntake(ctx, moduleFile(import.meta.url, './server.ts'), config, { env })
  },
}

/**
 * A local log aggregator: HTTP JSON records (JSON lines, arrays, GELF over HTTP, Loki's JSON
 * push) at `RIG_<NAME>_URL`, syslog over TCP at `RIG_<NAME>_SYSLOG_URL` (and UDP); every error
 * record an app ships fails the test it happened in.
 *
 * @example
 * services: {
 *   logs: logSink(),
 *   api: command({ run: 'node server.js', env: { LOG_URL: '{logs.url}' }, dependsOn: ['logs'] }),
 * }
 */
export function logSink(options: LogSinkOptions & CommonOptions = {}): ServiceDefinition<LogSinkOptions> {
  return defineService(logSinkKind, options)
}

export { logSinkKind }
