// Jest's globalTeardown (set by rig.preset()): stops what the global setup started.
import { state } from './global-setup.ts'

export default async function rigGlobalTeardown(): Promise<void> {
  const run = state.run
  state.run = undefined
  await run?.close()
}
