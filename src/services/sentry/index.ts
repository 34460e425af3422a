// `sentry()`: a local endpoint for what the app's Sentry SDK sends. Each event becomes a line of
// the service's log (its level first), so an exception the app reported during a test fails that
// test like an error line of its own output, and shows in the report; `rig.expectReported()`
// allows one. It runs as a child process (server.ts) that drops a flood beyond a rate, counted.
import crypto from 'node:crypto'
import { invalid } from '../../config/option-checks.ts'
import { varName } from '../../env/var-name.ts'
import { moduleFile } from '../../module-file.ts'
import { checkPositiveInt, launchIntake } from '../intake/launch.ts'
import { defineService, type CommonOptions, type ServiceDefinition, type ServiceKind } from '../service-kind.ts'
import type { ServerConfig } from './server.ts'

/** Options of {@link sentry}. */
export interface SentryOptions {
  /**
   * The project id of the DSN; events sent for another project are refused (403).
   * @default '1'
   */
  project?: string | number
  /**
   * Events accepted per second (a burst of one second's worth); beyond it they are dropped,
   * counted, answered 429 with Sentry's rate-limit header, and told in an `error dropped …` line.
   * @default 500
   */
  maxEventsPerSecond?: number
  /**
   * Largest request body, on the wire and once decompressed (413 beyond it).
   * @default 5 MiB
   */
  maxBodyBytes?: number
}

const DEFAULTS = { project: '1', maxEventsPerSecond: 500, maxBodyBytes: 5 * 1024 * 1024 }

const sentryKind: ServiceKind<SentryOptions> = {
  name: 'sentry',
  optionKeys: ['project', 'maxEventsPerSecond', 'maxBodyBytes'],
  // One line per event, its level first; rejected requests and drops are `error` lines too.
  errorPatterns: [/^(error|fatal) /],
  validate(o, where) {
    const p = o.project
    if (p !== undefined && !((typeof p === 'number' && Number.isInteger(p) && p >= 0) || (typeof p === 'string' && /^\d+$/.test(p)))) invalid(where, 'project', "a project id (digits, as in a DSN's path), e.g. 1 or '4505'", p)
    checkPositiveInt(where, 'maxEventsPerSecond', o.maxEventsPerSecond)
    checkPositiveInt(where, 'maxBodyBytes', o.maxBodyBytes)
  },
  async start(ctx, o) {
    const project = String(o.project ?? DEFAULTS.project)
    // A fresh key per start: an event sent with the DSN of another run is refused, not counted here.
    const key = crypto.randomBytes(16).toString('hex')
    const dsn = `http://${key}@127.0.0.1:${ctx.port}/${project}`
    const config: ServerConfig = {
      port: ctx.port,
      project,
      key,
      dsnVar: `SENTRY_DSN or ${varName(ctx.name, 'DSN')}`,
      maxEventsPerSecond: o.maxEventsPerSecond ?? DEFAULTS.maxEventsPerSecond,
      maxBodyBytes: o.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    }
    return launchIntake(ctx, moduleFile(import.meta.url, './server.ts'), config, { env: { DSN: dsn }, plainEnv: { SENTRY_DSN: dsn } })
  },
}

/**
 * A local Sentry endpoint: exports `SENTRY_DSN` and `RIG_<NAME>_DSN` to the services that
 * depend on it and to the tests; every error event the app reports fails the test it happened in.
 *
 * @example
 * services: {
 *   sentry: sentry(),
 *   api: command({ run: 'node server.js', dependsOn: ['sentry'] }), // its SDK reads SENTRY_DSN
 * }
 */
export function sentry(options: SentryOptions & CommonOptions = {}): ServiceDefinition<SentryOptions> {
  return defineService(sentryKind, options)
}

export { sentryKind }
