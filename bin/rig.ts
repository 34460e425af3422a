#!/usr/bin/env node
// The `rig` command. The Node version is checked before the CLI loads: an older Node would
// otherwise fail on syntax or APIs it lacks, with an error that names neither version. Then the
// compile cache is switched on, so that every module loaded after it starts from V8's cache.
import { enableCompileCache } from '../src/compile-cache.ts'
import { nodeRequirementMessage, nodeSupported } from '../src/node-version.ts'

if (!nodeSupported(process.versions.node)) {
  process.stderr.write(`${nodeRequirementMessage(process.version)}\n`)
  process.exitCode = 2
} else {
  enableCompileCache()
  const { main } = await import('../src/cli/main.ts')
  process.exitCode = await main(process.argv.slice(2))
}
