// `withRig(config, options)`: the Playwright config with rig's global setup (the environment,
// once per run), its reporter (the run report), one worker under `isolation: 'shared'`, and
// Debian's Chromium with the flags a headless machine needs (a browser download cannot work
// everywhere).
import { existsSync } from 'node:fs'
import type { PlaywrightTestConfig, ReporterDescription } from '@playwright/test'
import { ConfigError } from '../errors.ts'
import { moduleFile } from '../module-file.ts'
import type { RigRunnerOptions } from '../runner/options.ts'
import { runSlot } from './run-slot.ts'

/** Options of `withRig()`: every runner's options, and the browser. */
export interface RigPlaywrightOptions extends RigRunnerOptions {
  /**
   * The Chromium Playwright launches, for projects that name no `executablePath` or `channel`
   * of their own; `false` leaves it to Playwright (its downloaded browser).
   * @default process.env.RIG_CHROMIUM, else '/usr/bin/chromium' (Debian's `chromium` package) when it is installed
   */
  chromium?: string | false
  /**
   * Chromium trusts rig's CA when the environment serves HTTPS, for its own launches only (an NSS
   * database of rig's as its `HOME`; needs `certutil`, `apt-get install libnss3-tools`). `false`
   * launches it with the machine's trust alone (`use.rigTrustCA: false` per project): checks stay
   * on either way.
   * @default true
   */
  trustCA?: boolean
}

/** Flags for Chromium on a machine without display, GPU or sandbox, that must not phone home. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Debian's Chromium. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium'

/** The Chromium to use unless the options say otherwise: `RIG_CHROMIUM` (checked before the run), else Debian's when installed, else Playwright's own. */
export function defaultChromium(): string | false {
  if (process.env.RIG_CHROMIUM) return process.env.RIG_CHROMIUM
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : false
}

type Use = NonNullable<PlaywrightTestConfig['use']>

/** `use` with rig's Chromium, unless it names a browser of its own. */
function withChromium(use: Use | undefined, chromium: string | false): Use | undefined {
  if (chromium === false) return use
  if ((use?.browserName && use.browserName !== 'chromium') || use?.channel || use?.launchOptions?.executablePath) return use
  const lo = use?.launchOptions
  return { ...use, launchOptions: { ...lo, executablePath: chromium, args: [...CHROMIUM_ARGS, ...(lo?.args ?? [])] } }
}

/** `use` with `rigTrustCA: false` when `withRig()` was told not to trust the CA. */
function withTrustOption(use: Use | undefined, trustCA: boolean | undefined): Use | undefined {
  return trustCA === false ? ({ ...use, rigTrustCA: false } as Use) : use
}

/** Reporters as a list of descriptions. */
function reporters(r: PlaywrightTestConfig['reporter']): ReporterDescription[] {
  if (r === undefined) return [[process.env.CI ? 'dot' : 'list']]
  if (typeof r === 'string') return [[r]]
  return [...r]
}

/** Playwright's project names must tell projects apart: rig's report and replays name them. */
function checkProjects(config: PlaywrightTestConfig): void {
  const seen = new Set<string>()
  for (const p of config.projects ?? []) {
    const name = p.name ?? ''
    if (seen.has(name)) {
      throw new ConfigError('RIG_PLAYWRIGHT_PROJECTS', `two Playwright projects are named "${name}": give each project a name of its own (the report, replays and --project tell them apart by name)`)
    }
    seen.add(name)
  }
}

/**
 * The Playwright config with rig: `export default defineConfig(withRig({ testDir: 'e2e', … }))`.
 * Tests import `test` and `expect` from `testrig/playwright`.
 */
export function withRig<T extends PlaywrightTestConfig>(config: T, options: RigPlaywrightOptions = {}): T & Pick<PlaywrightTestConfig, 'globalSetup' | 'reporter' | 'workers' | 'use'> {
  checkProjects(config)
  runSlot().options = options
  const chromium = options.chromium ?? defaultChromium()
  const setups = [config.globalSetup ?? []].flat()
  const shared = (options.isolation ?? 'shared') === 'shared'
  return {
    ...config,
    globalSetup: [moduleFile(import.meta.url, './global-setup.ts'), ...setups],
    reporter: [...reporters(config.reporter), [moduleFile(import.meta.url, './reporter.ts')]],
    ...(config.workers === undefined && shared ? { workers: 1 } : {}),
    use: withTrustOption(withChromium(config.use, chromium), options.trustCA),
    ...(config.projects ? { projects: config.projects.map((p) => (p.use?.launchOptions ? { ...p, use: withChromium(p.use, chromium) } : p)) } : {}),
  }
}
