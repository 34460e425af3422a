// Playwright's global setup (set by withRig()): in the runner's main process, before any worker
// starts, start the environment (or attach to `rig up`'s) once and publish it in `RIG_RUN`,
// which the workers inherit. The function it returns is the global teardown.
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FullConfig } from '@playwright/test'
import { backgroundDone } from '../env/environment.ts'
import { RigError } from '../errors.ts'
import { resolveSeed } from '../runner/order.ts'
import { resolveOptions } from '../runner/options.ts'
import { openPublishedRun } from '../runner/publish-run.ts'
import { trustHome, trustsCA, type TrustUse } from './launch-trust.ts'
import { runSlot } from './run-slot.ts'

/** Every Chromium a project names must be there before a test waits for it. */
export function checkBrowsers(config: Pick<FullConfig, 'projects'>): void {
  for (const p of config.projects) {
    const exe = p.use.launchOptions?.executablePath
    if (exe && !existsSync(exe)) {
      throw new RigError(
        'RIG_BROWSER_NOT_FOUND',
        `no browser at ${exe} (project "${p.name}"): install Debian's Chromium with \`apt-get install chromium\` (it goes to /usr/bin/chromium), or point RIG_CHROMIUM or use.launchOptions.executablePath at a Chromium, or withRig(config, { chromium: false }) for the browser \`npx playwright install chromium\` downloads`,
        { exitCode: 2 },
      )
    }
  }
}

export default async function rigGlobalSetup(config: FullConfig): Promise<() => Promise<void>> {
  const slot = runSlot()
  const o = resolveOptions(slot.options ?? {})
  if (o.isolation === 'shared' && config.workers > 1) {
    throw new RigError(
      'RIG_PLAYWRIGHT_WORKERS',
      `rig: Playwright would run ${config.workers} workers at once against one shared environment, so a leak could not be blamed on the test that caused it: keep withRig()'s workers: 1 (no --workers/-j), or use withRig(config, { isolation: 'database' }) for a copy of each database per worker`,
      { exitCode: 2 },
    )
  }
  checkBrowsers(config)
  const run = await openPublishedRun(o, { root: config.configFile ? path.dirname(config.configFile) : process.cwd(), workers: Math.max(1, config.workers), seed: resolveSeed(o.order.seed) })
  // The CA's NSS database made once, before any worker launches a browser: a missing certutil
  // fails the run here, with nothing left running.
  if (config.projects.some((p) => trustsCA(p.use as TrustUse))) {
    try {
      trustHome(run.handoff.provided)
    } catch (err) {
      await run.close()
      await backgroundDone()
      throw err
    }
  }
  slot.run = run
  return async () => {
    await run.close()
    // Playwright exits as soon as its teardown returns.
    await backgroundDone()
  }
}
