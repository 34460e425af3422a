// The plugin's options are the runner core's (src/runner/options.ts), plus `variants`, which
// only the Vitest plugin runs (one Vitest project per variant).
import type { RigRunnerOptions } from '../runner/options.ts'

export type { ResolvedRunnerOptions as ResolvedPluginOptions } from '../runner/options.ts'
export { resolveOptions } from '../runner/options.ts'

/** Options of the Vitest plugin: `rig({ … })`. */
export interface RigPluginOptions extends RigRunnerOptions {
  /**
   * Run the suite once per variant in one `vitest run`: a list of variant names, or `true` for
   * every variant of rig.config.ts. Each variant is a Vitest project named after it, with its
   * own environment and its report in `rig-report/<variant>/`; `RIG_VARIANT` (one name, or
   * names separated by commas) wins.
   */
  variants?: string[] | true
}
