import { defineConfig } from 'vitest/config'
import { rig } from './src/vitest/index.ts'

export default defineConfig({
  // The suite runs through its own plugin: rig.config.ts's services for test/dogfood, a seeded
  // order for every file, the log scan and the run report. Files run in parallel, so each
  // worker gets its own copy of the database (isolation: 'database').
  plugins: [rig({ isolation: 'database', report: { dir: 'test-results/rig-report' } })],
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Integration tests start real servers; give them room on a shared 2-core CI machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
})
