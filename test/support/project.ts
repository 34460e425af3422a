// A throw-away project for CLI tests: a temp dir with rig.config.ts importing `testrig`
// through a node_modules symlink to this repository, and a way to run `rig` in it.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** This repository. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** Node ≥ 22.18 (the repo's devDependency), which runs TypeScript natively. */
export const NODE = path.join(REPO, 'node_modules/.bin/node')
export const BIN = path.join(REPO, 'bin/rig.ts')

/** A temp project. */
export interface Project {
  dir: string
  /** Writes (or rewrites) a file relative to the project. */
  write(file: string, text: string): string
  /** Runs `rig ARGS` in the project; never rejects. */
  rig(args: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }): Promise<RigResult>
  /** `rig down`, ignoring "nothing running", then removes the dir. */
  dispose(): Promise<void>
}

/** Outcome of one `rig` run. */
export interface RigResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the rig CLI (this repository's, or `options.bin`) as a real subprocess. */
export function runRig(args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string } = {}): Promise<RigResult> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--no-warnings', options.bin ?? BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** tmpfs when there is one: PostgreSQL data dirs copy much faster there. */
function tempBase(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK)
    return '/dev/shm'
  } catch {
    return os.tmpdir()
  }
}

/**
 * Creates a temp project whose rig.config.ts is `config` (imports from 'testrig' work).
 * Its rig temp dir (RIG_TMP_DIR) is inside it, so {@link leftovers} can tell what is its own.
 * `isolated`: testrig is a copy of this repository's sources without node_modules, so only
 * packages the project itself installs are found (e.g. a project without `pg`).
 */
export function makeProject(config: string, options: { isolated?: boolean } = {}): Project {
  const dir = fs.mkdtempSync(path.join(tempBase(), 'rig-cli-'))
  // PostgreSQL runs as an unprivileged user when we are root: it must traverse the project.
  fs.chmodSync(dir, 0o755)
  fs.mkdirSync(path.join(dir, 'node_modules'))
  let bin: string | undefined
  if (options.isolated) {
    // Outside node_modules (linked into it), where Node strips types.
    const copy = path.join(dir, 'testrig')
    for (const f of ['src', 'bin', 'package.json']) fs.cpSync(path.join(REPO, f), path.join(copy, f), { recursive: true })
    fs.symlinkSync(copy, path.join(dir, 'node_modules/testrig'))
    bin = path.join(copy, 'bin/rig.ts')
  } else {
    fs.symlinkSync(REPO, path.join(dir, 'node_modules/testrig'))
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'rig-test-project', type: 'module', private: true }))
  const write = (file: string, text: string): string => {
    const p = path.join(dir, file)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    fs.writeFileSync(p, text)
    return p
  }
  write('rig.config.ts', config)
  return {
    dir,
    write,
    rig: (args, o = {}) => runRig(args, o.cwd ?? dir, { ...o, ...(bin ? { bin } : {}), env: { RIG_TMP_DIR: path.join(dir, 'tmp'), ...o.env } }),
    async dispose() {
      await runRig(['down'], dir, { ...(bin ? { bin } : {}), env: { RIG_TMP_DIR: path.join(dir, 'tmp') } })
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Live processes that belong to the project: its path in their command line (services, their
 * watchdog, the supervisor's config) or their cwd inside it. Zombies do not count.
 */
export function leftovers(dir: string): string[] {
  const found: string[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8')
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
      let cwd = ''
      try {
        cwd = fs.readlinkSync(`/proc/${e}/cwd`)
      } catch {
        // another user's process we cannot inspect: the command line decides
      }
      if (cmd.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`${e} ${cmd || `[${fs.readFileSync(`/proc/${e}/comm`, 'utf8').trim()}]`}`)
    } catch {
      // exited meanwhile
    }
  }
  return found
}

/** The project's rig temp dirs of environments (empty when everything was cleaned up). */
export function envDirs(dir: string): string[] {
  try {
    return fs.readdirSync(path.join(dir, 'tmp/testrig/envs'))
  } catch {
    return []
  }
}

/** Scripts used as services in tests. */
export const FIXTURES = path.join(REPO, 'test/support/fixtures')
