// The car-sharing front end in Chromium through testrig/playwright: rig starts the same system
// as for the Vitest suite (rig.config.ts), the API serves the front end (web/), and every test
// fails on what the browser reports as well as on leaked data and logged errors. The report
// goes to rig-report/e2e/ (or CARSHARE_REPORT_DIR). With rig's front proxy on (`front` in
// rig.config.ts), the page is opened at the API's public name, RIG_API_PUBLIC_URL.
import { defineConfig } from '@playwright/test'
import { withRig } from 'testrig/playwright'
import { BILLING_JOBS_TABLE, BILLING_PROCESSING, BILLING_QUEUE } from './lib/queue.ts'

export default defineConfig(
  withRig(
    {
      testDir: 'e2e',
      outputDir: 'test-results',
      // The broker alone may take a minute to boot on a busy machine; the tests themselves are quick.
      timeout: 60_000,
      expect: { timeout: 20_000 },
      use: { baseURL: process.env.RIG_API_PUBLIC_URL ?? process.env.RIG_API_URL, screenshot: 'only-on-failure', trace: 'retain-on-failure' },
    },
    {
      report: { dir: process.env.CARSHARE_REPORT_DIR || 'rig-report/e2e' },
      guard: { settle: { queues: { cache: [BILLING_QUEUE, BILLING_PROCESSING], db: [BILLING_JOBS_TABLE] } } },
    },
  ),
)
