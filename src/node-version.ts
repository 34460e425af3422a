// Which Node runs rig. The `rig` entry reads this before loading anything else, so it stays
// plain code an old Node can parse and imports nothing.

/** The versions rig supports, as written in package.json `engines`. */
export const NODE_RANGE = '^22.18.0 || >=23.6.0'

/**
 * Whether `version` (e.g. `22.18.0`) runs rig: it must strip types by default, because the
 * user's `rig.config.ts` is loaded as TypeScript (22.18 on the 22 line, 23.6 after it).
 */
export function nodeSupported(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)
}

/** The one line an unsupported Node gets: what is needed, what was found, what to do. */
export function nodeRequirementMessage(version: string): string {
  return `rig needs Node.js 22.18 or newer (found ${version}): install a current Node.js, or run rig through the \`node\` package (npm install --save-dev node@24)`
}
