// examples/checks is what docs/checks.md shows: run it through the CLI so the docs stay true.
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startExampleApi } from '../../examples/checks/api-server.ts'
import { REPO, rig } from './_support.ts'

const EXAMPLE = path.join(REPO, 'examples/checks')
let api: Awaited<ReturnType<typeof startExampleApi>>
beforeAll(async () => {
  api = await startExampleApi()
})
afterAll(() => api.close())

test('the example passes against its API', async () => {
  const res = await rig(['check', '--json'], EXAMPLE, { API_URL: api.url })
  expect(res.code).toBe(0)
  expect(JSON.parse(res.stdout).results.map((r: { name: string }) => r.name)).toEqual(['configuration', 'API answers', 'orders listed', 'API port open', 'API host resolves', 'node runs'])
})

test('a target without its values: the config check fails and the rest is blocked, not piled up', async () => {
  const res = await rig(['check', '--target', 'staging', '--tag', 'smoke'], EXAMPLE, { STAGING_API_URL: '' })
  expect(res.code).toBe(1)
  expect(res.stdout).toContain('✗ configuration')
  expect(res.stdout).toContain('[assertion]  API_URL is not set')
  expect(res.stdout).toContain('- API answers  blocked by "configuration"')
})

test('when the API is down, its diagnostics run and are shown with it', async () => {
  const down = await startExampleApi()
  await down.close()
  const res = await rig(['check', '--format', 'tap', '--tag', 'smoke'], EXAMPLE, { API_URL: down.url })
  expect(res.code).toBe(1)
  expect(res.stdout).toContain('not ok 2 - API answers\n  ---\n  reason: connect')
  expect(res.stdout).toMatch(/diagnostics:\n    - name: "API port open"\n      status: fail\n      reason: connect/)
})

test('rig check --list shows what is tested', async () => {
  const res = await rig(['check', '--list', '--json'], EXAMPLE)
  expect(JSON.parse(res.stdout)).toContainEqual({ name: 'API answers', tags: ['smoke'], file: 'checks/api.check.ts', dependsOn: ['configuration'] })
})
