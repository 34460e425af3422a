// RabbitMQ through the Vitest plugin, in a throw-away project run by a real `vitest run`: the
// run's fixture declares a queue with a message, a test that leaves messages fails with the
// guard's message and the next one finds the queue as the fixture left it; under isolation
// 'database' every worker gets a vhost of its own through its URL.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project, REPO } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = `import { defineConfig, rabbitmq } from 'testrig'
export default defineConfig({
  services: { mq: rabbitmq() },
  fixtures: { jobs: { mq: 'fixtures/mq.json' } },
})
`

const helpers = `import amqp from 'amqplib'
export async function channel() {
  const conn = await amqp.connect(process.env.RIG_MQ_URL)
  const ch = await conn.createConfirmChannel()
  return { ch, close: () => conn.close() }
}
`

function setup(pluginOptions: string): Project {
  const p = pluginProject(config, pluginOptions)
  fs.symlinkSync(path.join(REPO, 'node_modules/amqplib'), path.join(p.dir, 'node_modules/amqplib'))
  p.write('fixtures/mq.json', JSON.stringify({ queues: [{ name: 'jobs' }], messages: [{ queue: 'jobs', body: 'fixture' }] }))
  p.write('test/helpers.ts', helpers)
  return p
}

// A nested vitest run boots a broker (seconds; minutes on a loaded 2-core machine).
describe('rabbitmq through the plugin', { timeout: 240_000 }, () => {
  test('a test that leaves messages fails with what it left; the next one starts from the fixture', async () => {
    project = setup(`{ fixture: 'jobs', order: { shuffle: false } }`)
    project.write(
      'test/jobs.test.ts',
      `import { expect, test } from 'vitest'
import { channel } from './helpers.ts'
test('publishes and forgets', async () => {
  const { ch, close } = await channel()
  ch.sendToQueue('jobs', Buffer.from('a'))
  ch.sendToQueue('jobs', Buffer.from('b'))
  await ch.waitForConfirms()
  await close()
})
test('finds the fixture message alone', async () => {
  const { ch, close } = await channel()
  expect((await ch.checkQueue('jobs')).messageCount).toBe(1)
  const m = await ch.get('jobs', { noAck: false })
  expect(m.content.toString()).toBe('fixture')
  ch.nack(m)
  await close()
})
`,
    )
    const run = await vitest(project)
    expect(run.output).toContain('Data left behind by "publishes and forgets"')
    expect(run.output).toContain('rabbitmq mq: queue jobs +2 messages (ready 3, unacked 0)')
    expect(run.output).toMatch(/1 failed \| 1 passed|1 passed \| 1 failed/)
    expect(run.code).toBe(1)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })

  test("isolation 'database': every worker gets its own vhost, copied from the fixture", async () => {
    project = setup(`{ fixture: 'jobs', isolation: 'database' }`)
    const file = (n: number): string => `import { expect, test } from 'vitest'
import { channel } from './helpers.ts'
test('worker ${n} has its own vhost', async () => {
  const vhost = decodeURIComponent(new URL(process.env.RIG_MQ_URL).pathname.slice(1))
  expect(vhost).toMatch(/^rig-w\\d+-/)
  const { ch, close } = await channel()
  expect((await ch.checkQueue('jobs')).messageCount).toBe(1)
  ch.sendToQueue('jobs', Buffer.from('mine'))
  await ch.waitForConfirms()
  await ch.purgeQueue('jobs')
  ch.sendToQueue('jobs', Buffer.from('fixture'))
  await ch.waitForConfirms()
  await close()
})
`
    project.write('test/a.test.ts', file(1))
    project.write('test/b.test.ts', file(2))
    project.write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ fixture: 'jobs', isolation: 'database' })], test: { include: ['test/**/*.test.ts'], maxWorkers: 2 } })\n`)
    const run = await vitest(project)
    expect(run.output).toContain('2 passed')
    expect(run.code).toBe(0)
    expect(leftovers(project.dir)).toEqual([])
  })
})
