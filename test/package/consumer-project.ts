// Fresh projects that install testrig the way users do: the packed tarball plus packages from
// the registry, in a temp dir outside this repository, run with a clean environment (nothing
// of this repository's npm or Vitest run leaks in). npm's own cache keeps repeated runs cheap:
// the versions installed are this repository's locked ones, already cached by its `npm ci`.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { NODE, REPO } from '../support/project.ts'

/** Outcome of a command run in a consumer project. */
export interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/** A consumer project. */
export interface Consumer {
  dir: string
  write(file: string, text: string): void
  /** Runs `command args` in the project; never rejects. */
  run(command: string, args: string[], options?: { timeoutMs?: number; env?: Record<string, string> }): Promise<Ran>
}

let scratch: string | undefined
let tarball: string | undefined

/** The scratch dir of this run's consumer projects and tarball, made on first use. */
export function scratchDir(): string {
  if (!scratch) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-consumer-'))
    // PostgreSQL runs as an unprivileged user when we are root: it must traverse rig's temp dirs.
    fs.chmodSync(scratch, 0o755)
  }
  return scratch
}

/** Builds and packs testrig once per run; returns the tarball's path. */
export function packed(): string {
  if (tarball) return tarball
  const r = spawnSync(NODE, [path.join(REPO, 'scripts/build.ts'), '--out', path.join(scratchDir(), 'build'), '--pack', scratchDir()], { encoding: 'utf8', env: cleanEnv({}) })
  if (r.status !== 0) throw new Error(`build and pack failed:\n${r.stdout}${r.stderr}`)
  tarball = r.stdout.trim().split('\n').at(-1)!
  return tarball
}

/** `name@version` of a package as this repository locked it, so npm's cache already has it. */
export function locked(name: string): string {
  const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return `${name}@${version}`
}

/** The machine's PATH, without any node_modules dir (this repository's .bin, its Node). */
const MACHINE_PATH = (process.env.PATH ?? '').split(':').filter((p) => p && !p.includes('node_modules'))

// How this machine reaches the registry (proxies, certificates, npm's cache and configs) is the
// user's setup, not this repository's: it is passed on. npm's global config lives under the
// prefix of the Node that runs npm, so it is asked of the machine's own npm and Node.
const REACH_VARS = /^(https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|npm_config_(cache|userconfig|cafile|registry|proxy|https_proxy|noproxy|strict_ssl))$/i
let reach: Record<string, string> | undefined
function registryReach(): Record<string, string> {
  if (!reach) {
    reach = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => REACH_VARS.test(e[0]) && e[1] !== undefined))
    const global = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8', env: { ...process.env, PATH: MACHINE_PATH.join(':') } }).stdout?.trim()
    if (global && fs.existsSync(global)) reach.npm_config_globalconfig = global
  }
  return reach
}

/**
 * The machine's PATH with the repository's Node (≥ 22.18) first, the one a user would have;
 * HOME and how to reach the registry; nothing of this repository's npm or Vitest run.
 */
function cleanEnv(extra: Record<string, string>, dir?: string): NodeJS.ProcessEnv {
  return {
    PATH: [path.dirname(fs.realpathSync(NODE)), ...MACHINE_PATH].join(':'),
    HOME: process.env.HOME ?? os.homedir(),
    ...registryReach(),
    LANG: 'C.UTF-8',
    CI: 'true',
    NO_COLOR: '1',
    ...(dir ? { RIG_TMP_DIR: path.join(dir, 'tmp') } : {}),
    ...extra,
  }
}

function run(cwd: string, command: string, args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(options.env ?? {}, cwd), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs ?? 300_000} ms]`
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, options.timeoutMs ?? 300_000)
    child.on('error', (err) => (stderr += String(err)))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * A new project `name` with `pkg` as its package.json, testrig installed from the tarball
 * (this repository's, or `tarball`) and `packages` (exact specs) from the registry.
 */
export async function createConsumer(name: string, pkg: Record<string, unknown>, packages: string[], tarball = packed()): Promise<Consumer> {
  const dir = path.join(scratchDir(), name)
  fs.mkdirSync(dir, { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...pkg }, null, 2))
  const install = await run(dir, 'npm', ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...packages])
  if (install.code !== 0) throw new Error(`npm install in ${dir} failed:\n${install.stdout}${install.stderr}`)
  return {
    dir,
    write(file, text) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      fs.writeFileSync(path.join(dir, file), text)
    },
    run: (command, args, options) => run(dir, command, args, options),
  }
}
