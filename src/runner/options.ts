// Options of a test runner adapter (`rig()` in vitest.config.ts, and the same object for the
// other runners); every default lives here.
import type { GuardMode, RestoreStrategy } from '../guard/adapter.ts'
import { ConfigError } from '../errors.ts'
import { KEEP_MAX } from '../guard/guard.ts'
import { DEFAULT_SETTLE_MS } from '../guard/settle/settle-stores.ts'

/** How test files share the environment: see {@link RigRunnerOptions.isolation}. */
export type Isolation = 'shared' | 'database' | 'stack'

/** Options of `rig()` in vitest.config.ts (and of every other runner's adapter). */
export interface RigRunnerOptions {
  /** Path to rig.config.ts. @default the nearest one from Vitest's root upwards */
  config?: string
  /**
   * Use the environment `rig up` left running when there is one.
   * @default true
   */
  attach?: boolean
  /**
   * `shared`: one environment, test files run one at a time so every leak is attributed
   * exactly (your app's processes and the tests see the same database).
   * `database`: files run in parallel, each worker gets its own clone of every guarded
   * database (for tests that talk to the database directly).
   * `stack`: files run in parallel, each worker gets its own clone of every guarded database
   * and its own copy of every long-running `command()` service, started on a port of its own
   * and wired to that worker's clones (for tests that go through the app's own processes).
   * @default 'shared'
   */
  isolation?: Isolation
  /**
   * A fixture of rig.config.ts loaded once before any test (and before per-worker copies are
   * made): the data every test starts from. When attached to `rig up`'s environment, its data
   * is put back as it was at the end of the run.
   */
  fixture?: string
  guard?: {
    /** @default 'fail' */
    mode?: GuardMode
    /** @default 'auto' */
    strategy?: RestoreStrategy
    /** Tables or key patterns never checked, e.g. `['public.audit_log', 'cache:*']`. */
    exclude?: string[]
    /** Services to guard; by default every postgres, mariadb, mysql and redis service. */
    services?: string[]
    /** Services rig did not start that it may nevertheless clean (external ones). */
    allowCleaning?: string[]
    /**
     * Keep what a failed test left instead of only restoring it: its changed tables are copied
     * to schema `rig_kept_<n>` (PostgreSQL), its keys to `rig:kept:<n>:*` (Redis), where no
     * later check looks, and the failure says where. `max` tests per store and run (default 10);
     * the next run on the same environment drops them. See docs/guard.md.
     * @default false
     */
    keepOnFailure?: boolean | { max?: number }
    /**
     * Before each check, wait until the application has no work in flight (messages ready or
     * unacknowledged in consumed queues, transactions open on its connections); `false`: never.
     * `skip`: stores not waited for; `queues`: per store, what the application uses as a queue
     * beyond a broker's (Redis lists and streams, PostgreSQL tables), e.g. `{ cache: ['jobs:*'] }`.
     * @default { timeoutMs: 2000 }
     */
    settle?: false | { timeoutMs?: number; skip?: string[]; queues?: Record<string, string[]> }
  }
  logs?: {
    /**
     * Fail a test when a service logged an error line during it.
     * @default true
     */
    failOnError?: boolean
    /** Extra error patterns per service, on top of each kind's defaults. */
    patterns?: Record<string, (string | RegExp)[]>
    /** Services whose logs are not scanned. */
    ignore?: string[]
    /**
     * Lines that are not errors in any test, per service: a string matches as a substring,
     * e.g. `{ db: [/duplicate key value/, 'already exists'] }`. They are recorded as expected.
     */
    allow?: Record<string, (string | RegExp)[]>
    /**
     * Lines that are not errors in some test files only, per file (or directory, ending in `/`)
     * relative to the root, then per service, e.g.
     * `{ 'test/reconnect.test.ts': { db: [/terminating connection/] } }`.
     */
    allowIn?: Record<string, Record<string, (string | RegExp)[]>>
  }
  /**
   * The variant of rig.config.ts to run against (`variants`); `RIG_VARIANT` wins. Its report
   * goes to `rig-report/<variant>/` and records the variant, for `rig matrix`.
   */
  variant?: string
  order?: {
    /**
     * Shuffle files and tests with a seed (printed at start; `RIG_SEED` replays it).
     * @default true
     */
    shuffle?: boolean
    /** A fixed seed; `RIG_SEED` wins. */
    seed?: number
  }
  /**
   * This machine's shard, `'i/N'`, balanced on earlier timings (see `timings`). Without it:
   * the runner's own flag (Vitest's `--shard`), else `RIG_SHARD`, else the CI's parallel-job
   * variables (CircleCI, GitLab, Buildkite). `false`: never shard from the environment.
   */
  shard?: string | false
  /**
   * Earlier durations for balancing shards: a timings file (`rig report merge --timings`) or a
   * report.json. @default 'rig-timings.json' when present, else the last report
   */
  timings?: string
  report?: {
    /** @default 'rig-report' */
    dir?: string
    /** @default true */
    enabled?: boolean
  }
}

/** Settling with every default filled in (a deadline of 0 never waits). */
export type SettleConfig = { timeoutMs: number; skip: string[]; queues: Record<string, string[]> }

function settleConfig(s: false | { timeoutMs?: number; skip?: string[]; queues?: Record<string, string[]> } | undefined): SettleConfig {
  if (s === false) return { timeoutMs: 0, skip: [], queues: {} }
  return { timeoutMs: s?.timeoutMs ?? DEFAULT_SETTLE_MS, skip: s?.skip ?? [], queues: s?.queues ?? {} }
}

/** Options with every default filled in. */
export type ResolvedRunnerOptions = {
  config: string | undefined
  attach: boolean
  isolation: Isolation
  fixture: string | undefined
  guard: { mode: GuardMode; strategy: RestoreStrategy; exclude: string[]; services: string[] | undefined; allowCleaning: string[]; keepOnFailure: false | { max: number }; settle: SettleConfig }
  logs: { failOnError: boolean; patterns: Record<string, (string | RegExp)[]>; ignore: string[]; allow: Record<string, (string | RegExp)[]>; allowIn: Record<string, Record<string, (string | RegExp)[]>> }
  order: { shuffle: boolean; seed: number | undefined }
  shard: string | false | undefined
  timings: string | undefined
  report: { dir: string; enabled: boolean }
}

/** `true` → the default limit; `false`/absent → off. */
function keepOption(k: boolean | { max?: number } | undefined): false | { max: number } {
  if (!k) return false
  return { max: typeof k === 'object' ? (k.max ?? KEEP_MAX) : KEEP_MAX }
}

const ISOLATIONS: readonly Isolation[] = ['shared', 'database', 'stack']

function isolationOption(v: unknown): Isolation {
  if (v === undefined) return 'shared'
  if (!ISOLATIONS.includes(v as Isolation)) throw new ConfigError('RIG_CONFIG_INVALID', `rig({ isolation }) must be one of ${ISOLATIONS.map((i) => `'${i}'`).join(', ')}, got ${JSON.stringify(v)}`)
  return v as Isolation
}

/** Fills in defaults. */
export function resolveOptions(o: RigRunnerOptions = {}): ResolvedRunnerOptions {
  // A variant chosen in the plugin's options reaches the config loader and the workers through the env.
  if (o.variant && !process.env.RIG_VARIANT) process.env.RIG_VARIANT = o.variant
  const variant = process.env.RIG_VARIANT || undefined
  return {
    config: o.config,
    attach: o.attach ?? true,
    isolation: isolationOption(o.isolation),
    fixture: o.fixture,
    guard: { mode: o.guard?.mode ?? 'fail', strategy: o.guard?.strategy ?? 'auto', exclude: o.guard?.exclude ?? [], services: o.guard?.services, allowCleaning: o.guard?.allowCleaning ?? [], keepOnFailure: keepOption(o.guard?.keepOnFailure), settle: settleConfig(o.guard?.settle) },
    logs: { failOnError: o.logs?.failOnError ?? true, patterns: o.logs?.patterns ?? {}, ignore: o.logs?.ignore ?? [], allow: o.logs?.allow ?? {}, allowIn: o.logs?.allowIn ?? {} },
    order: { shuffle: o.order?.shuffle ?? true, seed: o.order?.seed },
    shard: o.shard,
    timings: o.timings,
    // RIG_REPORT_DIR: where a run started by rig (bisect) writes, so it never replaces the user's report.
    report: { dir: process.env.RIG_REPORT_DIR || (o.report?.dir ?? (variant ? `rig-report/${variant}` : 'rig-report')), enabled: o.report?.enabled ?? true },
  }
}
