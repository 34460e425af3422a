// The car-sharing suite runs through the testrig plugin: rig starts PostgreSQL, Redis (or not:
// see rig.config.ts), the migration, the API and the billing worker from rig.config.ts, checks
// every test for leaked data and logged errors, and writes the report to rig-report/<locale>/
// (or to CARSHARE_REPORT_DIR).
import { defineConfig } from 'vitest/config'
import { rig } from 'testrig/vitest'

const locale = process.env.CARSHARE_LOCALE ?? 'fr'

export default defineConfig({
  plugins: [rig({ report: { dir: process.env.CARSHARE_REPORT_DIR || `rig-report/${locale}` } })],
  test: { include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 60_000 },
})
