// Where the checks look in each target. In your project: import { defineChecks } from 'testrig/checks'
import { defineChecks } from '../../src/checks/index.ts'

export default defineChecks({
  targets: {
    local: { API_URL: 'http://127.0.0.1:3000' },
    // Values from the deployment's own environment; unset ones are left out.
    staging: { API_URL: process.env.STAGING_API_URL },
  },
  // Smoke checks must all answer within 2 s; diagnostics may dig for 30 s.
  tiers: { smoke: { budget: 2000 }, diagnostic: { budget: 30_000 } },
})
