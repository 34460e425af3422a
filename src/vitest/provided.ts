// Workers receive the core's `RigProvided` through Vitest's provide/inject.
import type { RigProvided } from '../runner/provided.ts'

export type { RigProvided, ProvidedService } from '../runner/provided.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    rig: RigProvided
    /** The project runs each test file in a fresh worker (`isolate`, Vitest's default): a worker's guard connections end with its file. */
    rigIsolate: boolean
  }
}
