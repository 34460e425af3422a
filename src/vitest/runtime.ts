// Worker side of the plugin: binds the runner core's worker (src/runner/worker.ts) to Vitest
// (provided data through inject, the worker's number from VITEST_POOL_ID) and re-exports what
// a test calls.
import { inject } from 'vitest'
import { RigError } from '../errors.ts'
import type { RigProvided } from '../runner/provided.ts'
import { bindWorker } from '../runner/worker.ts'

export type { TestService, TestDeclarations, TestHost } from '../runner/worker.ts'
export { host, services, service, allowLeak, expectLog, expectReported, useFixture, rigProvided, workerUrl, clearFaults, settle } from '../runner/worker.ts'

let provided: RigProvided | undefined
bindWorker({
  provided() {
    if (!provided) {
      try {
        provided = inject('rig')
      } catch {
        provided = undefined
      }
      if (!provided) throw new RigError('RIG_PLUGIN_MISSING', 'testrig services are not available in this test: add `plugins: [rig()]` (from testrig/vitest) to vitest.config.ts')
    }
    return provided
  },
  workerId: () => Number(process.env.VITEST_POOL_ID ?? 1),
})
