// `rig init`'s errors: usage errors (exit code 2), raised before anything is written.
import { RigError } from '../errors.ts'

/** `rig init` cannot go ahead; nothing was written. */
export class InitError extends RigError {
  constructor(code: 'RIG_INIT_NO_PACKAGE_JSON' | 'RIG_INIT_CONFIG_EXISTS' | 'RIG_INIT_UNKNOWN_RUNNER' | 'RIG_INIT_UNSAFE_PATH', message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: 2 })
    this.name = 'InitError'
  }
}
