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

/** Runs the rig CLI as a real subprocess. */
export function runRig(args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RigResult> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--no-warnings', BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
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

/** Creates a temp project whose rig.config.ts is `config` (imports from 'testrig' work). */
export function makeProject(config: string): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-cli-'))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(REPO, path.join(dir, 'node_modules/testrig'))
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
    rig: (args, options = {}) => runRig(args, options.cwd ?? dir, options),
    async dispose() {
      await runRig(['down'], dir)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A tiny HTTP server script for `command()` services: answers `/health` and echoes env vars. */
export const HTTP_SERVER = `
const http = require('node:http')
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok')
  const name = req.url.slice(1)
  res.end(String(process.env[name] ?? ''))
}).listen(Number(process.env.PORT), '127.0.0.1')
`
