// Vitest's setup file, which the plugin adds to every test file (src/vitest/plugin-node.ts): rig's
// hooks around every test (src/vitest/setup-hooks.ts), registered for each test file this runs
// for. Vitest runs a setup file again for every test file, including in a worker that runs
// several (`isolate: false`); the module it imports is loaded once.
import { setupFile } from './setup-hooks.ts'

setupFile()
