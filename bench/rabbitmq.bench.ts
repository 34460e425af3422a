// RabbitMQ benchmark. Boot: rig's broker ready (warm init cache, cold) against the stock
// `rabbitmq-server` script, with each of rig's boot choices undone once to show what it buys.
// Guard: per-test leak check + purge on a vhost of 20 queues, against deleting and declaring
// the 20 queues again (and purging them all) in the same run; and the ways to read a vhost's
// queues (rig's agent, passive declares, the management API, rabbitmqctl) that decided the design.
//
//   node_modules/.bin/node bench/rabbitmq.bench.ts [--boot-runs N] [--runs N] [--no-write]
//
// Writes bench/results/rabbitmq.json and the rabbitmq section of bench/RESULTS.md.
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify, parseArgs } from 'node:util'
import { type AmqpChannel, connectAmqp } from '../src/drivers/amqp.ts'
import { createGuard, rabbitmqStore } from '../src/guard/index.ts'
import { BrokerSession } from '../src/guard/rabbitmq/broker-session.ts'
import { defineConfig, rabbitmq, startEnvironment } from '../src/index.ts'
import { unprivilegedUser } from '../src/providers/process/user.ts'
import { requireRabbitmq } from '../src/services/rabbitmq/binaries.ts'
import { ensureRabbitmqCache } from '../src/services/rabbitmq/init-cache.ts'
import { type BootResult, type BootVariant, bootOnce } from './lib/rabbitmq-boot.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { type Summary, summarize } from './lib/stats.ts'

const { values } = parseArgs({ options: { 'boot-runs': { type: 'string', default: '5' }, runs: { type: 'string', default: '200' }, 'no-write': { type: 'boolean', default: false } } })
const BOOT_RUNS = Number(values['boot-runs'])
const RUNS = Number(values.runs)
const QUEUES = 20
const here = path.dirname(new URL(import.meta.url).pathname)
const results: Record<string, Summary> = {}
const notes: Record<string, string> = {}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

const VARIANTS: Record<string, BootVariant> = {
  stock: { how: 'stock' },
  rigCold: { how: 'rig' },
  rigWarm: { how: 'rig', warm: true },
  warmFullCodePath: { how: 'rig', warm: true, fullCodePath: true },
  warmOneScheduler: { how: 'rig', warm: true, erlArgs: ['+S', '1:1'] },
}

async function boot(): Promise<void> {
  const install = requireRabbitmq('bench')
  const cache = await ensureRabbitmqCache(install, unprivilegedUser(), { timeoutMs: 300_000, signal: new AbortController().signal })
  notes.versions = `RabbitMQ ${install.version}, Erlang/OTP ${install.otp}`
  const samples: Record<string, BootResult[]> = {}
  for (let i = 0; i < BOOT_RUNS + 1; i++) {
    for (const [name, v] of Object.entries(VARIANTS)) {
      // rig's warm path alternates its stop between SIGTERM (what rig sends) and SIGKILL.
      const r = await bootOnce(install, cache, v, name === 'rigWarm' && i % 2 === 0 ? 'SIGTERM' : 'SIGKILL')
      if (i > 0) (samples[name] ??= []).push(r)
      if (name === 'rigWarm' && i > 0) (samples[i % 2 === 0 ? 'stopTerm' : 'stopKill'] ??= []).push(r)
    }
  }
  for (const [name, s] of Object.entries(samples)) {
    if (name.startsWith('stop')) results[name] = summarize(s.map((x) => x.stopMs))
    else results[`ready_${name}`] = summarize(s.map((x) => x.readyMs))
  }
  // What a user sees: startEnvironment() until ready (warm), and the first start that fills an empty init cache.
  const envReady: number[] = []
  const envStop: number[] = []
  for (let i = 0; i < BOOT_RUNS + 1; i++) {
    const t0 = performance.now()
    const env = await startEnvironment(defineConfig({ services: { mq: rabbitmq() } }))
    const t = performance.now() - t0
    const s = await time(() => env.stop())
    if (i > 0) envReady.push(t), envStop.push(s)
  }
  results.envReadyWarm = summarize(envReady)
  results.envStop = summarize(envStop)
  const cold: number[] = []
  for (let i = 0; i < Math.min(2, BOOT_RUNS); i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bench-cache-'))
    fs.chmodSync(dir, 0o755)
    process.env.RIG_CACHE_DIR = dir
    try {
      const t0 = performance.now()
      const env = await startEnvironment(defineConfig({ services: { mq: rabbitmq() } }))
      cold.push(performance.now() - t0)
      await env.stop()
    } finally {
      delete process.env.RIG_CACHE_DIR
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  results.envReadyColdCache = summarize(cold)
}

/** 20 durable queues bound to a topic exchange; 4 of them hold 5 fixture messages each. */
async function seed(ch: AmqpChannel): Promise<string[]> {
  await ch.assertExchange('events', 'topic', { durable: true })
  const names = Array.from({ length: QUEUES }, (_, i) => `q${String(i + 1).padStart(2, '0')}`)
  for (const [i, q] of names.entries()) {
    await ch.assertQueue(q, { durable: true })
    await ch.bindQueue(q, 'events', `${q}.*`)
    if (i % 5 === 0) for (let m = 0; m < 5; m++) ch.publish('', q, Buffer.from(`fixture ${m}`))
  }
  await ch.waitForConfirms()
  return names
}

async function guard(): Promise<void> {
  const env = await startEnvironment(defineConfig({ services: { mq: rabbitmq({ management: true }) } }))
  try {
    const url = env.get('mq').url
    const conn = await connectAmqp(url)
    const ch = await conn.createConfirmChannel()
    const names = await seed(ch)
    const g = createGuard({ stores: [rabbitmqStore(env.get('mq'))] })
    await g.baseline()
    const leak: number[] = []
    const clean: number[] = []
    const redeclare: number[] = []
    const purgeAll: number[] = []
    // "A test" publishes 2 messages routed to one queue.
    const aTest = async (): Promise<void> => {
      ch.publish('events', 'q07.created', Buffer.from('a'))
      ch.publish('events', 'q07.created', Buffer.from('b'))
      await ch.waitForConfirms()
    }
    const fixtures = async (): Promise<void> => {
      for (const [i, q] of names.entries()) if (i % 5 === 0) for (let m = 0; m < 5; m++) ch.publish('', q, Buffer.from(`fixture ${m}`))
      await ch.waitForConfirms()
    }
    for (let i = 0; i < RUNS + 10; i++) {
      await aTest()
      const tLeak = await time(async () => {
        const r = await g.check('publishes 2 messages')
        if (!r.leaked || r.errors.length > 0) throw new Error('the benchmark test should have leaked, and been restored')
      })
      const tClean = await time(async () => {
        if ((await g.check('publishes nothing')).leaked) throw new Error('the restore left something behind')
      })
      // Baselines a suite uses without rig: every queue deleted and declared again (bindings and
      // fixture messages too, to get back to the same state), or every queue purged (+ fixtures).
      await aTest()
      const tRedeclare = await time(async () => {
        for (const q of names) {
          await ch.deleteQueue(q)
          await ch.assertQueue(q, { durable: true })
          await ch.bindQueue(q, 'events', `${q}.*`)
        }
        await fixtures()
      })
      await aTest()
      const tPurge = await time(async () => {
        for (const q of names) await ch.purgeQueue(q)
        await fixtures()
      })
      if ((await g.check('baselines restored it')).leaked) throw new Error('a baseline did not restore the vhost')
      if (i >= 10) leak.push(tLeak), clean.push(tClean), redeclare.push(tRedeclare), purgeAll.push(tPurge)
    }
    results.rigCheckPurge = summarize(leak)
    results.rigCheckClean = summarize(clean)
    results.redeclareAll = summarize(redeclare)
    results.purgeAll = summarize(purgeAll)
    await g.close()
    await readingAVhost(url, env.vars(), ch, names)
    await conn.close()
  } finally {
    await env.stop()
  }
}

/** The ways to read 20 queues' counts, and whether what they say is current. */
async function readingAVhost(url: string, vars: Record<string, string>, ch: AmqpChannel, names: string[]): Promise<void> {
  const s = await BrokerSession.open(url)
  const agent: number[] = []
  const passive: number[] = []
  const mgmt: number[] = []
  const auth = `Basic ${Buffer.from(`${vars.RIG_MQ_USER}:${vars.RIG_MQ_PASSWORD}`).toString('base64')}`
  const api = `${vars.RIG_MQ_MANAGEMENT_URL}/api/queues/%2F?columns=name,messages_ready,messages_unacknowledged`
  for (let i = 0; i < Math.min(RUNS, 100) + 5; i++) {
    const a = await time(() => s.read([], []))
    const p = await time(() => Promise.all(names.map((q) => ch.checkQueue(q))))
    const m = await time(async () => (await fetch(api, { headers: { authorization: auth } })).json())
    if (i >= 5) agent.push(a), passive.push(p), mgmt.push(m)
  }
  results.readAgent = summarize(agent)
  results.readPassiveDeclares = summarize(passive)
  results.readManagementApi = summarize(mgmt)
  // Freshness: right after 3 messages are published, what does each source say?
  ch.publish('', 'q02', Buffer.from('1'))
  ch.publish('', 'q02', Buffer.from('2'))
  ch.publish('', 'q02', Buffer.from('3'))
  await ch.waitForConfirms()
  const viaAgent = (await s.read([], [])).queues.get('q02')?.ready
  const viaApi = ((await (await fetch(api, { headers: { authorization: auth } })).json()) as Array<{ name: string; messages_ready?: number }>).find((q) => q.name === 'q02')?.messages_ready
  notes.freshness = `Right after publishing 3 messages to an empty queue: rig's agent says ${viaAgent}, the management API says ${viaApi ?? 'nothing yet'} (its figures come from statistics emitted every 5 s by default)`
  await ch.purgeQueue('q02')
  await s.close()
  // rabbitmqctl starts an Erlang VM per call; measured on this machine's own broker when there is one.
  const ctl: number[] = []
  for (let i = 0; i < 3; i++) {
    try {
      ctl.push(await time(() => promisify(execFile)('rabbitmqctl', ['list_queues', 'name', 'messages_ready', 'messages_unacknowledged', '--formatter', 'json'], { timeout: 60_000 })))
    } catch {
      break
    }
  }
  if (ctl.length > 0) results.readRabbitmqctl = summarize(ctl)
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  await boot()
  await guard()
  const ratio = (a?: Summary, b?: Summary): number => Math.round(((a?.median ?? 0) / (b?.median ?? 1)) * 10) / 10
  const ratios = { stockOverWarm: ratio(results.ready_stock, results.ready_rigWarm), redeclareOverRig: ratio(results.redeclareAll, results.rigCheckPurge), purgeAllOverRig: ratio(results.purgeAll, results.rigCheckPurge) }
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
  } catch {}
  const machine: Machine = { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100) }
  const out = { date: new Date().toISOString(), commit, bootRuns: BOOT_RUNS, runs: RUNS, machine, results, ratios, notes, totalS: Math.round((performance.now() - started) / 100) / 10 }
  console.log(JSON.stringify(out, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'rabbitmq.json'), JSON.stringify(out, null, 2) + '\n')
  writeResultsSection('rabbitmq', section(out))
}

interface Machine {
  cpus: string
  memGiB: number
  node: string
  loadBefore: number[]
  loadAfter: number[]
}

function section(o: { date: string; commit: string; machine: Machine; ratios: Record<string, number>; totalS: number }): string {
  const r = results
  const row = (label: string, s: Summary | undefined): string => (s ? `| ${label} | ${s.median.toFixed(1)} ms | ${s.p90.toFixed(1)} ms | ${s.min.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${s.n} |` : `| ${label} | — | | | | |`)
  const m = o.machine
  const busy = (m.loadBefore[0] ?? 0) > os.cpus().length ? ' **The machine was busy (1-minute load above its CPUs): boot figures are inflated by other work.**' : ''
  return [
    '## RabbitMQ (`bench/rabbitmq.bench.ts`)',
    '',
    `${o.date.slice(0, 10)}, commit \`${o.commit}\`; ${m.cpus}, ${m.memGiB} GiB, Node ${m.node}, ${notes.versions}; load average ${m.loadBefore.join(' / ')} before, ${m.loadAfter.join(' / ')} after.${busy} Boot variants interleaved, ${BOOT_RUNS} runs each after one warm-up; guard ${RUNS} runs after 10 warm-ups; total ${o.totalS} s.`,
    '',
    '| figure | median | p90 | min | max | n |',
    '|---|---|---|---|---|---|',
    row('`rabbitmq()` ready, warm init cache (`startEnvironment` → AMQP connection.open)', r.envReadyWarm),
    row('`rabbitmq()` ready, empty init cache (fills it, then boots)', r.envReadyColdCache),
    row('`env.stop()` of a broker (teardown: SIGKILL, the data goes with the dir)', r.envStop),
    row('broker VM alone: rig, warm (database copied from the init cache)', r.ready_rigWarm),
    row('broker VM alone: rig, cold (fresh database, no init cache)', r.ready_rigCold),
    row('… warm, but every application of the installation on the code path', r.ready_warmFullCodePath),
    row('… warm, with one scheduler (`+S 1:1`)', r.ready_warmOneScheduler),
    row('baseline: stock `rabbitmq-server` script, fresh node, `rabbitmq.conf`', r.ready_stock),
    row('stop after ready: SIGTERM (clean)', r.stopTerm),
    row('stop after ready: SIGKILL', r.stopKill),
    row(`guard: leak check + purge, ${QUEUES} queues, a test left 2 messages in one`, r.rigCheckPurge),
    row(`guard: check when nothing changed (${QUEUES} queues)`, r.rigCheckClean),
    row(`baseline: delete + declare + bind the ${QUEUES} queues, republish the fixtures`, r.redeclareAll),
    row(`baseline: purge the ${QUEUES} queues, republish the fixtures`, r.purgeAll),
    row(`reading ${QUEUES} queues: rig's agent (all queues, exchanges, bindings; exact)`, r.readAgent),
    row(`reading ${QUEUES} queues: passive declares (names known in advance; ready only)`, r.readPassiveDeclares),
    row(`reading ${QUEUES} queues: management API \`/api/queues\``, r.readManagementApi),
    row('reading queues: `rabbitmqctl list_queues --formatter json` (system broker)', r.readRabbitmqctl),
    '',
    `Stock script / rig warm (VM alone, medians): **${o.ratios.stockOverWarm}×**. Per test, rig's check + purge is **${o.ratios.redeclareOverRig}×** faster than deleting and declaring the queues again and ${o.ratios.purgeAllOverRig}× faster than purging them all. ${notes.freshness}.`,
  ].join('\n')
}

await main()
