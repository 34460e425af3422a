// The run report's data: everything `report.json` holds and the HTML page and JUnit XML show.
// Plain serialisable values only.

/** Status of one test. */
export type TestStatus = 'passed' | 'failed' | 'skipped'

/** Data one test left behind, per store. */
export interface LeakEntry {
  /** e.g. `postgres db`. */
  store: string
  /** e.g. `public.rentals +1 row`. */
  items: string[]
}

/** A service log line matched as an error during a test. */
export interface LogErrorEntry {
  service: string
  line: string
  /** Whether the test declared it expected (`rig.expectLog`). */
  expected: boolean
}

/** An error a browser page reported during a test (`testrig/playwright`). */
export interface BrowserErrorEntry {
  /** `console.error`, `console.warning`, `pageerror` (uncaught exception or unhandled rejection), `request` (a failed request to the system's own origins), `crash`. */
  kind: 'console.error' | 'console.warning' | 'pageerror' | 'request' | 'crash'
  text: string
  /** The URL of the page it came from. */
  page: string
  /** Where in the page's code, `url:line:column`, when the browser says. */
  source?: string
  /** Whether the test or its project allowed it (`rig.expectConsole`, `rigBrowser.allow`). */
  expected: boolean
}

/** A file the test runner saved for a test (Playwright's screenshot, trace, video). */
export interface ArtifactEntry {
  name: string
  /** Relative to the report's directory, so the HTML page links to it. */
  path: string
  contentType: string
}

/** One test's result. */
export interface TestEntry {
  /** Stable id: file + full name. */
  id: string
  file: string
  /** Suite path and test name joined by ' > '. */
  name: string
  status: TestStatus
  durationMs: number
  /** Failure messages (first lines of errors). */
  errors: string[]
  leaks: LeakEntry[]
  /** Which restore strategy cleaned up after it, when it leaked. */
  restoredWith?: string
  /** The application was still working when the deadline before the check passed: what was moving. */
  notSettled?: string
  logErrors: LogErrorEntry[]
  /** Log error lines left out of `logErrors` to keep the report bounded; the whole log is the service's `logFile`. */
  logErrorsCut?: number
  /** Errors its browser pages reported (`testrig/playwright`). */
  browserErrors?: BrowserErrorEntry[]
  /** Screenshots, traces and videos the test runner saved for it. */
  artifacts?: ArtifactEntry[]
  /** Network faults and proxy switches the test set (each put back after it), e.g. `db: latency 200ms`. */
  faults?: string[]
  /** Role changes the test made (they stay after it), e.g. `db: failover: node 0 killed, node 1 promoted (412 ms)`. */
  roles?: string[]
  /** Copy-paste command that replays this test in the same order. */
  repro?: string
  /** The worker slot (Vitest's pool id) it ran in: tests of one slot share its stores. */
  worker?: number
  /** Further services the test touched, when the runner records them (`rig matrix` adds them to its stores and log errors). */
  touched?: string[]
}

/** One service in the start-up timeline. */
export interface TimelineEntry {
  service: string
  kind: string
  provider: string
  dependsOn: string[]
  /** ms since the environment start. */
  startingAt?: number
  startedAt?: number
  readyAt?: number
  completedAt?: number
  url: string
  /** The service's whole log, relative to the project root, when it outlives the run. */
  logFile?: string
  /** A worker's copy of the service (`isolation: 'stack'`): that worker's number. */
  worker?: number
}

/** One shard's part of a merged report. */
export interface ShardPart {
  /** 1-based; 0 when the report did not say. */
  index: number
  count: number
  startedAt: string
  durationMs: number
  files: string[]
  summary: RunReport['summary']
}

/** The whole report. */
export interface RunReport {
  /** Report format version. */
  version: 1
  startedAt: string
  durationMs: number
  seed: number
  /** Test files in the order they ran. */
  files: string[]
  /** Command that replays the whole run in the same order. */
  repro: string
  /** The variant of rig.config.ts this run used (`RIG_VARIANT`, `rig({ variant })`). */
  variant?: string
  summary: { passed: number; failed: number; skipped: number; leaks: number; logErrors: number }
  /** The shard this run was (`--shard`, RIG_SHARD, CI variables): its `files` are the shard's. */
  shard?: { index: number; count: number }
  /** A report merged from shards (`rig report merge`): each one's part. */
  shards?: ShardPart[]
  /** Set when the run was interrupted (Ctrl-C): the report holds the tests that finished. */
  interrupted?: boolean
  environment: { startMs: number; attached: boolean; services: TimelineEntry[] }
  tests: TestEntry[]
}
