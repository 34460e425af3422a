// The plugin's options are the runner core's (src/runner/options.ts).
export type { RigRunnerOptions as RigPluginOptions, ResolvedRunnerOptions as ResolvedPluginOptions } from '../runner/options.ts'
export { resolveOptions } from '../runner/options.ts'
