// Workers receive the core's `RigProvided` through Vitest's provide/inject.
import type { RigProvided } from '../runner/provided.ts'

export type { RigProvided, ProvidedService } from '../runner/provided.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    rig: RigProvided
  }
}
