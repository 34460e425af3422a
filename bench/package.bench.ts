// Benchmark of the published package: how big it is packed and installed, and how long `rig`
// takes to start from it (compiled JavaScript under node_modules) against the sources this
// repository runs (TypeScript, types stripped at load), in the same run, interleaved; with
// `--base DIR`, another checkout (e.g. main) built, installed and timed in the same rounds.
//
//   node_modules/.bin/node bench/package.bench.ts [--runs 20] [--base DIR] [--no-write]
//
// Writes bench/results/package.json and the package section of bench/RESULTS.md. Installing
// uses npm's cache (the versions are this repository's locked ones); see bench/README.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createConsumer, locked, packed, scratchDir } from '../test/package/consumer-project.ts'
import { walk } from '../test/package/package-files.ts'
import { formatSummary, round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const REPO = path.resolve(import.meta.dirname, '..')
const RESULTS_JSON = path.join(import.meta.dirname, 'results', 'package.json')
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' }, base: { type: 'string' }, 'no-write': { type: 'boolean', default: false } } })
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const CONFIG = "import { defineConfig, postgres, redis } from 'testrig'\n\nexport default defineConfig({ services: { db: postgres(), cache: redis() } })\n"
const TARGETS = { help: 80, status: 120 } as const

/** Bytes of every file under `dir`. */
const sizeOf = (dir: string): number => walk(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`
const commitOf = (dir: string): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}

/** A `rig` to time: a Node entry file, the project it runs in, extra environment. */
interface Variant {
  name: string
  bin: string
  cwd: string
  env?: Record<string, string>
}

/** Wall and CPU (user + system) time of one `node BIN args`, from bash's `time`: spawn → exit, without bash's own start. */
function time(v: Variant, argv: string[]): Promise<{ ms: number; cpuMs: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const script = 'TIMEFORMAT="%3R %3U %3S"; time "$@" >/dev/null 2>/dev/null'
    const child = spawn('bash', ['-c', script, 'bash', process.execPath, v.bin, ...argv], { cwd: v.cwd, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(v.cwd, 'tmp'), ...v.env }, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(err)
      if (!m) return reject(new Error(`no timing from bash for ${v.name} ${argv.join(' ')}: ${err}`))
      resolve({ ms: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, code })
    })
  })
}

async function rig(v: Variant, argv: string[]): Promise<void> {
  const r = await time(v, argv)
  if (r.code !== 0) throw new Error(`rig ${argv.join(' ')} (${v.name}) exited with ${r.code}`)
}

/** A project whose `node_modules/testrig` links to checkout `repo` (its sources run as they are). */
function sourceProject(name: string, repo: string): string {
  const dir = path.join(scratchDir(), name)
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true, mode: 0o755 })
  fs.symlinkSync(repo, path.join(dir, 'node_modules/testrig'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, type: 'module' }))
  fs.writeFileSync(path.join(dir, 'rig.config.ts'), CONFIG)
  return dir
}

/** Builds and packs checkout `repo` with its own build script; returns the tarball. */
function packOther(repo: string): string {
  const out = path.join(scratchDir(), 'base-build')
  const r = spawnSync(process.execPath, [path.join(repo, 'scripts/build.ts'), '--out', out, '--pack', path.join(scratchDir(), 'base-pack')], { cwd: repo, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`building ${repo} failed:\n${r.stdout}${r.stderr}`)
  return r.stdout.trim().split('\n').at(-1) as string
}

async function main(): Promise<void> {
  const runs = Number(args.runs)
  const base = args.base ? path.resolve(args.base) : undefined
  const loadBefore = os.loadavg()
  const started = performance.now()
  const tBuild = performance.now()
  const tarball = packed()
  const buildMs = performance.now() - tBuild
  const build = path.join(scratchDir(), 'build')
  log(`built and packed in ${Math.round(buildMs)} ms: ${tarball}`)

  // With `pg`, which `rig up` needs for PostgreSQL, as in a user's project.
  const installed = await createConsumer('installed', {}, [locked('pg')])
  installed.write('rig.config.ts', CONFIG)
  const testrigDir = path.join(installed.dir, 'node_modules/testrig')
  const variants: Variant[] = [
    { name: 'installed', bin: path.join(testrigDir, 'bin/rig.js'), cwd: installed.dir },
    { name: 'installed, no compile cache', bin: path.join(testrigDir, 'bin/rig.js'), cwd: installed.dir, env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
    { name: 'source', bin: path.join(REPO, 'bin/rig.ts'), cwd: sourceProject('source', REPO) },
  ]
  if (base) {
    const other = await createConsumer('base-installed', {}, [locked('pg')], packOther(base))
    other.write('rig.config.ts', CONFIG)
    variants.push({ name: 'base installed', bin: path.join(other.dir, 'node_modules/testrig/bin/rig.js'), cwd: other.dir }, { name: 'base source', bin: path.join(base, 'bin/rig.ts'), cwd: sourceProject('base-source', base) })
  }
  // The floor: Node itself starting and exiting.
  const floor: Variant = { name: 'node -e 0', bin: '-e', cwd: installed.dir }
  const projects = [...new Map(variants.map((v) => [v.cwd, v])).values()]

  const samples: Record<string, { ms: number[]; cpuMs: number[] }> = {}
  const add = (key: string, r: { ms: number; cpuMs: number }): void => {
    const s = (samples[key] ??= { ms: [], cpuMs: [] })
    s.ms.push(r.ms)
    s.cpuMs.push(r.cpuMs)
  }
  try {
    for (const v of projects) await rig(v, ['up', '--detach'])
    // One warm-up of each (page cache, the compile cache's first write), not counted; then
    // rounds in rotating order so that load from other work hits every variant alike.
    for (const v of variants) for (const argv of [['--help'], ['status']]) await time(v, argv)
    for (let i = 0; i < runs; i++) {
      const order = variants.map((_, k) => variants[(k + i) % variants.length] as Variant)
      for (const v of order) {
        for (const argv of [['--help'], ['status']]) {
          const r = await time(v, argv)
          if (r.code !== 0) throw new Error(`rig ${argv.join(' ')} (${v.name}) exited with ${r.code}`)
          add(`${v.name} ${argv[0]}`, r)
        }
      }
      add(floor.name, await time(floor, ['0']))
      log(`round ${i + 1}/${runs} (load ${round(os.loadavg()[0] ?? 0, 1)})`)
    }
  } finally {
    for (const v of projects) await time(v, ['down'])
  }

  const wall = Object.fromEntries(Object.entries(samples).map(([k, x]) => [k, summarize(x.ms)])) as Record<string, Summary>
  const cpu = Object.fromEntries(Object.entries(samples).map(([k, x]) => [k, summarize(x.cpuMs)])) as Record<string, Summary>
  const ratio = (a: string, b: string, cmd: string): number => round(wall[`${a} ${cmd}`]!.median / wall[`${b} ${cmd}`]!.median, 2)
  const result = {
    benchmark: 'package',
    date: new Date().toISOString(),
    commit: commitOf(REPO),
    ...(base ? { baseCommit: commitOf(base) } : {}),
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? '', memoryGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: os.loadavg().map((x) => round(x, 2)) },
    size: {
      packedBytes: fs.statSync(tarball).size,
      files: walk(build).length,
      unpackedBytes: sizeOf(build),
      installedBytes: sizeOf(testrigDir),
      javascriptBytes: walk(build).filter((f) => f.endsWith('.js')).reduce((n, f) => n + fs.statSync(path.join(build, f)).size, 0),
      declarationBytes: walk(build).filter((f) => f.endsWith('.d.ts')).reduce((n, f) => n + fs.statSync(path.join(build, f)).size, 0),
      // Its drivers are optional peers, which npm does not install.
      dependencies: Object.keys((JSON.parse(fs.readFileSync(path.join(testrigDir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {}),
    },
    buildMs: round(buildMs),
    runs,
    start: wall,
    cpu,
    ratio: {
      help: ratio('installed', 'source', '--help'),
      status: ratio('installed', 'source', 'status'),
      ...(base ? { helpVsBase: ratio('installed', 'base installed', '--help'), statusVsBase: ratio('installed', 'base installed', 'status') } : {}),
    },
    targets: { helpMs: TARGETS.help, statusMs: TARGETS.status, help: wall['installed --help']!.median <= TARGETS.help, status: wall['installed status']!.median <= TARGETS.status },
  }
  for (const [k, v] of Object.entries(wall)) log(`${k.padEnd(40)} wall ${formatSummary(v)}; cpu median ${cpu[k]!.median} ms`)
  log(`installed / source: --help ${result.ratio.help}×, status ${result.ratio.status}×${base ? `; installed / base installed: --help ${result.ratio.helpVsBase}×, status ${result.ratio.statusVsBase}×` : ''}`)
  if (args['no-write']) return
  fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
  writeResultsSection('package', section(result, variants.map((v) => v.name), floor.name))
  log(`wrote ${path.relative(process.cwd(), RESULTS_JSON)} and bench/RESULTS.md`)
}

type Result = {
  date: string
  commit: string
  baseCommit?: string
  durationS: number
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAvgBefore: number[]; loadAvgAfter: number[] }
  size: { packedBytes: number; files: number; unpackedBytes: number; installedBytes: number; javascriptBytes: number; declarationBytes: number; dependencies: string[] }
  buildMs: number
  runs: number
  start: Record<string, Summary>
  cpu: Record<string, Summary>
  ratio: { help: number; status: number; helpVsBase?: number; statusVsBase?: number }
  targets: { helpMs: number; statusMs: number; help: boolean; status: boolean }
}

function section(r: Result, names: string[], floor: string): string {
  const m = r.machine
  const busy = Math.max(m.loadAvgBefore[0] ?? 0, m.loadAvgAfter[0] ?? 0) > m.cpus
  const label: Record<string, string> = { installed: 'installed', 'installed, no compile cache': 'installed, `NODE_DISABLE_COMPILE_CACHE=1`', source: 'source', 'base installed': `installed, base \`${r.baseCommit}\``, 'base source': `source, base \`${r.baseCommit}\`` }
  const row = (cmd: string, name: string): string => {
    const key = name === floor ? floor : `${name} ${cmd}`
    const w = r.start[key]!
    const c = r.cpu[key]!
    return `| ${name === floor ? '`node -e 0` (the floor)' : `\`rig ${cmd}\`, ${label[name] ?? name}`} | ${Math.round(w.median)} ms | ${Math.round(w.p90)} ms | ${Math.round(w.min)} ms | ${Math.round(c.median)} ms | ${w.n} |`
  }
  const verdict = (ok: boolean): string => (ok ? 'pass' : 'miss')
  return `
## Package (\`bench/package.bench.ts\`)

${r.date.slice(0, 10)}, commit \`${r.commit}\`${r.baseCommit ? ` against \`${r.baseCommit}\` (base)` : ''}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadAvgBefore.join(' / ')} before, ${m.loadAvgAfter.join(' / ')} after (other work shares this machine).${busy ? ' **The machine was busy (1-minute load above its CPU count): wall times are inflated by other work; CPU time and the ratios, from the same rotating rounds, are the figures to read.**' : ''} ${r.runs} rounds in rotating order after one warm-up of each; total ${r.durationS} s.

| size | |
|---|---|
| packed (\`npm pack\` of the build) | ${kB(r.size.packedBytes)} |
| unpacked | ${kB(r.size.unpackedBytes)} in ${r.size.files} files (JavaScript ${kB(r.size.javascriptBytes)}, declarations ${kB(r.size.declarationBytes)}, the rest README, LICENSE, docs) |
| installed (\`node_modules/testrig\`) | ${kB(r.size.installedBytes)}; dependencies installed with it: ${r.size.dependencies.length === 0 ? 'none' : r.size.dependencies.join(', ')} |

Start time: \`node <bin> ARGS\` with the same Node, timed by bash's \`time\` (wall: spawn → exit; CPU: user + system of the process), from a project whose \`rig up --detach\` environment (PostgreSQL + Redis) is running, so \`rig status\` finds \`rig.config.ts\` and reads the live state over the control socket. **installed**: the package installed from its tarball, \`node_modules/testrig/bin/rig.js\`, with its compile cache warm (one run before the rounds); **\`NODE_DISABLE_COMPILE_CACHE=1\`**: the same without the cache. **source**: the checkout's \`bin/rig.ts\`, types stripped at load.${r.baseCommit ? ' **base**: the same for the other checkout, built and installed the same way.' : ''} (\`npx rig\` adds npm's own start-up, a few hundred ms, to any of them.)

| command | median wall | p90 | min | median CPU | n |
|---|---|---|---|---|---|
${['--help', 'status'].flatMap((cmd) => names.map((n) => row(cmd, n))).join('\n')}
${row('', floor)}

**Targets (median wall, installed): \`rig --help\` ≤ ${r.targets.helpMs} ms: ${verdict(r.targets.help)} (${Math.round(r.start['installed --help']!.median)} ms); \`rig status\` ≤ ${r.targets.statusMs} ms: ${verdict(r.targets.status)} (${Math.round(r.start['installed status']!.median)} ms).** Ratio installed / source (medians): \`--help\` ${r.ratio.help}×, \`status\` ${r.ratio.status}×${r.ratio.helpVsBase !== undefined ? `; installed / installed base: \`--help\` ${r.ratio.helpVsBase}×, \`status\` ${r.ratio.statusVsBase}×` : ''}. Building and packing took ${Math.round(r.buildMs)} ms.
`
}

try {
  await main()
} finally {
  fs.rmSync(scratchDir(), { recursive: true, force: true })
}
