// A broker that cannot start, dies mid-run or loses its owner: a clear message, and nothing of
// it left running (beam.smp, erl_child_setup, inet_gethost live in sessions of their own).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { defineConfig, rabbitmq } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'
import { expectPidsGone, pidAlive, processTree, waitUntil } from '../support/procs.ts'

const leftovers: number[] = []
afterEach(() => {
  for (const p of leftovers.splice(0)) {
    try {
      process.kill(p, 'SIGKILL')
    } catch {
      // gone
    }
  }
})
afterAll(async () => {
  await assertNothingLeft()
})

describe('a broker that cannot start', () => {
  it('a fixed port already taken is refused before anything starts', async () => {
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    try {
      const err = await rejection(start(defineConfig({ services: { mq: rabbitmq({ port }) } })))
      expect(err.code).toBe('RIG_PORT_IN_USE')
      expect(err.message).toContain(String(port))
    } finally {
      server.close()
    }
  })

  it('option values are checked before anything starts', async () => {
    const cases: Array<[Parameters<typeof rabbitmq>[0], RegExp]> = [
      [{ vhost: '' }, /vhost must be a non-empty string/],
      [{ user: 'a b' }, /user must be letters, digits/],
      [{ management: 'yes' as unknown as boolean }, /management must be true or false/],
      [{ settings: { 'a\nb': 1 } }, /settings key/],
      [{ settings: { heartbeat: '30\nloopback_users = none' } }, /settings.heartbeat must be a value on one line/],
    ]
    for (const [options, message] of cases) {
      const err = await rejection(start(defineConfig({ services: { mq: rabbitmq(options) } })))
      expect(err.code).toBe('RIG_CONFIG_INVALID')
      expect(err.message).toMatch(message)
    }
  })

  it('a misspelt plugin is a config error with a suggestion', async () => {
    const err = await rejection(start(defineConfig({ services: { mq: rabbitmq({ plugins: ['rabbitmq_shovle'] }) } })))
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toMatch(/no RabbitMQ plugin "rabbitmq_shovle".*did you mean "rabbitmq_shovel"/)
  })

  it('a setting RabbitMQ rejects fails the start with its log and a hint', async () => {
    const err = await rejection(start(defineConfig({ services: { mq: rabbitmq({ settings: { 'no_such.setting': 1 } }) } })))
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain('no_such.setting')
    expect(err.message).toMatch(/check `settings`/)
  })

  it('a missing installation names what to install', async () => {
    const err = await rejection(start(defineConfig({ services: { mq: rabbitmq({ binDir: '/nonexistent' }) } })))
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toMatch(/needs `rabbitmq-server`, but its binDir \/nonexistent does not exist/)
    expect(err.message).toMatch(/apt-get install rabbitmq-server/)
  })
})

describe('a broker that dies mid-run', () => {
  it('is reported as exited, and its VM helpers go with it', async () => {
    const env = await start(defineConfig({ services: { mq: rabbitmq() } }))
    try {
      const mq = env.get('mq')
      const tree = processTree(mq.pid as number)
      const exited = new Promise((r) => env.on((e) => e.type === 'exited' && e.service === 'mq' && r(e)))
      process.kill(mq.pid as number, 'SIGKILL')
      await exited
      expect(mq.status).toBe('exited')
      expect(mq.logTail(3).join('\n')).toMatch(/exited unexpectedly \(SIGKILL\)/)
      await expectPidsGone(tree)
    } finally {
      await env.stop()
    }
    await assertNothingLeft(env)
  })
})

describe('SIGKILL of the process that owns the broker', () => {
  it('leaves zero processes and removes the environment', async () => {
    const script = `
      import { rabbitmq, startEnvironment } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))}
      const env = await startEnvironment({ services: { mq: rabbitmq() } })
      console.log(JSON.stringify({ dir: env.dir, pid: env.get('mq').pid }))
      setInterval(() => {}, 1 << 30)
    `
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    leftovers.push(child.pid as number)
    let out = ''
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const ready = await new Promise<{ dir: string; pid: number }>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) resolve(JSON.parse(line) as { dir: string; pid: number })
      })
      child.on('exit', (code) => reject(new Error(`owner exited (${code}) before the broker was ready: ${err}`)))
    })
    leftovers.push(ready.pid)
    const tree = processTree(ready.pid)
    expect(tree.length).toBeGreaterThanOrEqual(2)
    child.kill('SIGKILL')
    await expectPidsGone(tree, 20_000)
    expect(await waitUntil(() => !fs.existsSync(ready.dir), 20_000)).toBe(true)
    expect(pidAlive(ready.pid)).toBe(false)
  })
})
