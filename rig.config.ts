// The environment of this project's own test suite, started by the testrig Vitest plugin
// (vitest.config.ts): the suite is its own first user.
import { defineConfig, postgres, redis } from './src/index.ts'

export default defineConfig({
  services: {
    db: postgres({ database: 'dogfood' }),
    cache: redis(),
  },
})
