// testrig runs from two forms of the same tree: its TypeScript sources (this repository, where
// Node strips types) and the published build (JavaScript, the same layout). A few files are
// not imported but located by path at run time (a child process's script, Vitest's setup
// file): the `.ts` source in one form, its compiled `.js` twin in the other.
import { fileURLToPath } from 'node:url'

/**
 * Absolute path of a module of this package given relative to `from` (an `import.meta.url`)
 * by its source name, e.g. `moduleFile(import.meta.url, './setup.ts')`: that file when the
 * caller is itself a `.ts` source, its `.js` twin when the caller was compiled.
 */
export function moduleFile(from: string, relative: string): string {
  const file = fileURLToPath(new URL(relative, from))
  return new URL(from).pathname.endsWith('.ts') ? file : file.replace(/\.ts$/, '.js')
}
