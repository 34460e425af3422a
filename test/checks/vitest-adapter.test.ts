// The example check project run as Vitest tests: one test per check, via defineCheckTests.
import path from 'node:path'
import { afterAll } from 'vitest'
import { startExampleApi } from '../../examples/checks/api-server.ts'
import { defineCheckTests } from '../../src/checks/vitest.ts'
import { REPO } from './_support.ts'

const api = await startExampleApi()
afterAll(() => api.close())
process.env.API_URL = api.url

await defineCheckTests({ root: path.join(REPO, 'examples/checks') })
