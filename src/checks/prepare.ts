// The common start of `rig check`, `rig serve` and the Vitest adapter: load the project, pick
// the env values (target, running `rig up`, or none) and make them what `env` reads.
import { setEnvOverlay } from './env.ts'
import { loadCheckProject, loadChecksConfig, type CheckProject } from './load.ts'
import { resolveTarget, type ResolvedTarget } from './targets.ts'
import { resolveLocalhost } from '../front/localhost.ts'
import { trustRigCA } from '../tls/trust-process.ts'

/** A project ready to run. */
export interface PreparedChecks {
  project: CheckProject
  target: ResolvedTarget
}

/**
 * Loads the check project at `root` and installs the env values of `target` (or of the local
 * `rig up` environment when no target is given). The target is resolved before the files are
 * imported, so an unknown target fails fast and files that read `env` at import see it.
 */
export async function prepareChecks(root: string, options: { include?: readonly string[]; target?: string } = {}): Promise<PreparedChecks> {
  const loaded = await loadChecksConfig(root)
  const target = resolveTarget(root, loaded.config, options.target)
  setEnvOverlay(target.values)
  // HTTPS targets on rig's names verify against rig's CA (checks stay on), and `*.localhost`
  // resolves to loopback as in a browser.
  resolveLocalhost()
  trustRigCA({ ...process.env, ...target.values })
  const project = await loadCheckProject(root, { loaded, ...(options.include ? { include: options.include } : {}) })
  return { project, target }
}
