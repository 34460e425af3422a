// Adding the rig plugin to a project's Vitest config: one import and `rig()` in `plugins`,
// placed by recognising the usual shapes of the file; anything else gets printed lines instead
// of a guess.

/** Vitest config names, in the order Vitest looks for them. */
export const VITEST_CONFIGS = ['vitest.config.ts', 'vitest.config.mts', 'vitest.config.cts', 'vitest.config.js', 'vitest.config.mjs', 'vitest.config.cjs']

/** The line that imports the plugin. */
export const PLUGIN_IMPORT = "import { rig } from 'testrig/vitest'"

/** A new config, for a project that has none. */
export const NEW_VITEST_CONFIG = `import { defineConfig } from 'vitest/config'
${PLUGIN_IMPORT}

// rig starts the services of the rig config (or uses the ones \`rig up\` left running), fails a
// test that leaves data behind or makes a service log an error, and writes rig-report/.
export default defineConfig({ plugins: [rig()] })
`

// The last line of a top-level import: `import x from 'y'`, `} from 'y'` closing a multi-line
// one, or a bare `import 'y'`.
const IMPORT_END = /^(?:import\b.*\bfrom\s*|\}\s*from\s*|import\s*)(['"])[^'"\n]+\1;?[ \t]*$/gm
// Where the exported config object opens: defineConfig({, defineConfig(() => ({, export default {.
const CONFIG_OPEN = [/defineConfig\(\s*\{/, /defineConfig\([^)]*\)\s*=>\s*\(\s*\{/, /export\s+default\s*\{/]

/** Whether the config already uses testrig's plugin. */
export function hasRigPlugin(text: string): boolean {
  return text.includes('testrig/vitest')
}

/** The config with the plugin added, or `undefined` when its shape is not one rig recognises. */
export function addRigPlugin(text: string): string | undefined {
  if (/\brequire\(/.test(text)) return undefined
  let withPlugin: string | undefined
  const plugins = /plugins\s*:\s*\[/.exec(text)
  if (plugins) {
    const at = plugins.index + plugins[0].length
    const empty = /^\s*\]/.test(text.slice(at))
    withPlugin = `${text.slice(0, at)}rig()${empty ? '' : ', '}${text.slice(at)}`
  } else {
    for (const open of CONFIG_OPEN) {
      const m = open.exec(text)
      if (!m) continue
      const at = m.index + m[0].length
      withPlugin = `${text.slice(0, at)}\n  plugins: [rig()],${text.slice(at)}`
      break
    }
  }
  if (withPlugin === undefined) return undefined
  const imports = [...withPlugin.matchAll(IMPORT_END)]
  const last = imports.at(-1)
  if (!last) return `${PLUGIN_IMPORT}\n${withPlugin}`
  const at = last.index + last[0].length
  return `${withPlugin.slice(0, at)}\n${PLUGIN_IMPORT}${withPlugin.slice(at)}`
}
