// Errors of the checks module: one class with stable codes, like src/errors.ts. Usage mistakes
// (duplicate names, unknown tags or targets, a taken port) exit 2, as every config error does.
import { RigError } from '../errors.ts'

/** A problem with the check files, the checks config or the command line of `rig check`/`rig serve`. */
export class CheckConfigError extends RigError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: 2 })
    this.name = 'CheckConfigError'
  }
}
