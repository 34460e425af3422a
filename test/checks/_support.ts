// Shared by the checks tests: real HTTP servers on 127.0.0.1:0, temp projects with check
// files, and the CLI as a real subprocess.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const NODE = path.join(REPO, 'node_modules/.bin/node')
export const CHECKS_ENTRY = path.join(REPO, 'src/checks/index.ts')

/** A real HTTP server on a free loopback port. */
export async function startHttp(handler: http.RequestListener): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const made: string[] = []

/** A temp project: `files` maps relative paths to contents; `$CHECKS` becomes the entry's path. */
export function tempProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-checks-'))
  made.push(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n')
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text.replaceAll('$CHECKS', CHECKS_ENTRY))
  }
  return dir
}

/** Removes every temp project made so far. */
export function cleanProjects(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true })
}

/** Result of a CLI run. */
export interface RigRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `rig ARGS` in `cwd` as a subprocess and waits for it. */
export function rig(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<RigRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [path.join(REPO, 'bin/rig.ts'), ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A running `rig serve` subprocess. */
export interface ServeProcess {
  url: string
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `rig serve ARGS` in `cwd` and resolves once it listens (rejects if it exits first). */
export function serveProcess(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(NODE, [path.join(REPO, 'bin/rig.ts'), 'serve', ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((r) => child.on('close', r))
  let out = ''
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ url: m[1] as string, stop: (signal = 'SIGTERM') => (child.kill(signal), exited) })
    })
    void exited.then(() => reject(new Error(`rig serve exited: ${out}`)))
  })
}
