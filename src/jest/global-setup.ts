// Jest's globalSetup (set by rig.preset()): in Jest's main process, before any worker starts,
// start the environment (or attach to `rig up`'s) once and publish it to the workers.
import { RigError } from '../errors.ts'
import { resolveOptions, type RigRunnerOptions } from '../runner/options.ts'
import { openPublishedRun, type PublishedRun } from '../runner/publish-run.ts'

/** The run this process published, for the teardown. */
export const state: { run?: PublishedRun } = {}

interface GlobalConfig {
  rootDir: string
  maxWorkers: number
  seed: number
}
interface ProjectConfig {
  rootDir: string
  testEnvironmentOptions?: { rig?: RigRunnerOptions }
}

export default async function rigGlobalSetup(globalConfig: GlobalConfig, projectConfig: ProjectConfig): Promise<void> {
  const o = resolveOptions(projectConfig.testEnvironmentOptions?.rig ?? {})
  const workers = Math.max(1, globalConfig.maxWorkers)
  if (o.isolation === 'shared' && workers > 1) {
    throw new RigError(
      'RIG_JEST_WORKERS',
      `rig: Jest would run ${workers} test files at once against one shared environment, so a leak could not be blamed on the test that caused it: keep rig.preset()'s maxWorkers: 1 (no --maxWorkers/-w), or use rig.preset({ isolation: 'database' }) for a copy of each database per worker`,
      { exitCode: 2 },
    )
  }
  state.run = await openPublishedRun(o, { root: projectConfig.rootDir, workers, seed: globalConfig.seed })
}
