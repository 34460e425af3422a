// Adding the plugin to the usual shapes of a Vitest config, and declining the others.
import { describe, expect, it } from 'vitest'
import { addRigPlugin, hasRigPlugin } from '../../src/init/vitest-config.ts'

describe('addRigPlugin', () => {
  it('prepends rig() to an existing plugins list, empty or not', () => {
    expect(addRigPlugin("import { defineConfig } from 'vitest/config'\nimport react from '@vitejs/plugin-react'\nexport default defineConfig({ plugins: [react()] })\n")).toBe(
      "import { defineConfig } from 'vitest/config'\nimport react from '@vitejs/plugin-react'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig(), react()] })\n",
    )
    expect(addRigPlugin("import { defineConfig } from 'vitest/config'\nexport default defineConfig({ plugins: [] })\n")).toContain('plugins: [rig()] })')
  })

  it('adds a plugins list to defineConfig({…}), a function config and a plain export default {…}', () => {
    expect(addRigPlugin("import { defineConfig } from 'vitest/config'\nexport default defineConfig(({ mode }) => ({ test: {} }))\n")).toBe(
      "import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig(({ mode }) => ({\n  plugins: [rig()], test: {} }))\n",
    )
    expect(addRigPlugin('export default {\n  test: {},\n}\n')).toBe("import { rig } from 'testrig/vitest'\nexport default {\n  plugins: [rig()],\n  test: {},\n}\n")
  })

  it('places the import after a multi-line import', () => {
    const out = addRigPlugin("import {\n  defineConfig,\n} from 'vitest/config'\n\nexport default defineConfig({})\n")
    expect(out).toBe("import {\n  defineConfig,\n} from 'vitest/config'\nimport { rig } from 'testrig/vitest'\n\nexport default defineConfig({\n  plugins: [rig()],})\n")
  })

  it('declines shapes it does not recognise: CommonJS, a config built elsewhere', () => {
    expect(addRigPlugin("const { defineConfig } = require('vitest/config')\nmodule.exports = defineConfig({})\n")).toBeUndefined()
    expect(addRigPlugin("import base from './base.ts'\nexport default base\n")).toBeUndefined()
  })

  it('knows a config that already has the plugin', () => {
    expect(hasRigPlugin("import { rig } from 'testrig/vitest'")).toBe(true)
    expect(hasRigPlugin("import { defineConfig } from 'vitest/config'")).toBe(false)
  })
})
